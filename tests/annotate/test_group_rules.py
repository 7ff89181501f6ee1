"""The group rules of an import (dataset/groups.py), without a database: bases, maps, the
family of an owner, and the errors that name what is wrong."""

import re

import pytest

from dataset.groups import GroupRuleError, family_of, make_rule, parse_map, parse_rule

STUDY = [
    ("deepseek-ai", "DeepSeek-V3"),
    ("deepseek-ai", "DeepSeek-Coder"),
    ("meta-llama", "llama"),
    ("meta-llama", "codellama"),
    ("meta-llama", "llama3"),
    ("QwenLM", "Qwen"),
    ("QwenLM", "Qwen2.5-Coder"),
]


def test_owner_is_the_default_and_gives_the_studys_three_groups():
    groups = make_rule(None).assign(STUDY)
    assert set(groups.values()) == {"deepseek-ai", "meta-llama", "QwenLM"}
    assert groups[("meta-llama", "codellama")] == "meta-llama"
    assert make_rule("").assign(STUDY) == make_rule("OWNER").assign(STUDY) == groups


def test_family_names_the_model_family_each_owner_publishes():
    groups = make_rule("family").assign(STUDY)
    assert {owner: groups[(owner, name)] for owner, name in STUDY} == {
        "deepseek-ai": "DeepSeek",
        "meta-llama": "Llama",
        "QwenLM": "Qwen",
    }
    # codellama begins with no word of "meta-llama": it takes its owner's family.
    assert groups[("meta-llama", "codellama")] == "Llama"


def test_family_of_an_owner_whose_repositories_share_no_word_is_the_owner():
    assert family_of("huggingface", ["transformers", "peft"]) == "huggingface"
    assert family_of("mistralai", ["mistral-inference"]) == "mistralai"
    assert family_of("mistral-ai", ["mistral-inference"]) == "Mistral"


def test_a_name_puts_every_new_repository_in_one_group():
    assert set(make_rule("Open LLMs").assign(STUDY).values()) == {"Open LLMs"}
    assert parse_rule("name:owner") == ("name", "owner")
    assert parse_rule("name: A:B ") == ("name", "A:B")
    assert make_rule("name:family").text == "name:family"
    assert make_rule("Open LLMs").text == "Open LLMs"


@pytest.mark.parametrize(
    "text, message",
    [
        ("regex:^deep", "Unknown group rule 'regex:^deep'"),
        ("owner:x", "Unknown group rule 'owner:x'"),
        ("name:", "names no group"),
        ("x" * 101, "longer than 100 characters"),
    ],
)
def test_an_unknown_or_malformed_rule_is_refused_by_name(text, message):
    with pytest.raises(GroupRuleError, match=re.escape(message)):
        parse_rule(text)


def test_a_map_overrides_the_base_for_the_repositories_it_names():
    rule = make_rule("owner", "QwenLM/Qwen2.5-Coder=Coders, meta-llama/codellama = Coders")
    groups = rule.assign(STUDY)
    assert groups[("QwenLM", "Qwen2.5-Coder")] == groups[("meta-llama", "codellama")] == "Coders"
    assert groups[("QwenLM", "Qwen")] == "QwenLM"
    assert rule.describe() == (
        "by owner; mapped: meta-llama/codellama → Coders, QwenLM/Qwen2.5-Coder → Coders"
    )


def test_a_map_in_lines_with_comments_or_json_reads_the_same():
    lines = "# the study's coders\nqwenlm/qwen2.5-coder=Coders\n\nmeta-llama/codellama=Coders\n"
    as_json = '{"QwenLM/Qwen2.5-Coder": "Coders", "meta-llama/codellama": "Coders"}'
    assert parse_map(lines)[0] == parse_map(as_json)[0]
    assert make_rule(None, {"QwenLM/Qwen": "Q"}).assign(STUDY)[("QwenLM", "Qwen")] == "Q"


@pytest.mark.parametrize(
    "text, message",
    [
        ("QwenLM/Qwen", "is not OWNER/NAME=GROUP"),
        ("Qwen=Q", "'Qwen' is not a repository"),
        ("QwenLM/Qwen=", "the group is empty"),
        ("QwenLM/Qwen=A, qwenlm/qwen=B", "two groups"),
        ('{"QwenLM/Qwen": ', "not valid JSON"),
        ('{"QwenLM/Qwen": 3}', "must be group names"),
    ],
)
def test_a_malformed_map_is_refused_naming_the_entry(text, message):
    with pytest.raises(GroupRuleError, match=message):
        parse_map(text)


def test_a_map_naming_a_repository_the_files_do_not_link_to_is_refused():
    rule = make_rule("owner", "QwenLM/Qwen=Q, acme/nothing=X")
    with pytest.raises(GroupRuleError, match="no record of the files links to: acme/nothing"):
        rule.assign(STUDY)
