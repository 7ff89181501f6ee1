"""A small corpus of seeded near-duplicates for the similarity, duplicate-group,
precedent and consistency tests: reworded titles over the same stack trace, near-identical
titles, one error message under two titles, a GitHub "Duplicate of #N" marker, and
unrelated issues. `seed_corpus(repository)` stores them and returns them by key."""

from mining.models import Issue

from .factories import CommentFactory, IssueFactory

OOM_TRACE = """```
Traceback (most recent call last):
  File "{home}/run.py", line {line}, in <module>
    model = AutoModelForCausalLM.from_pretrained(path, device_map="cuda")
  File "{home}/site-packages/transformers/modeling_utils.py", line 3850, in from_pretrained
    param = param.to(device)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate {gib} GiB.
```"""

ILLEGAL_ACCESS = """Steps: run batched generation.

```
RuntimeError: CUDA error: an illegal memory access was encountered
CUDA kernel errors might be asynchronously reported at some other API call
```"""

CORPUS = {
    "oom": (
        "CUDA out of memory when loading Qwen2.5-72B",
        OOM_TRACE.format(home="/home/alice", line=12, gib="2.00"),
    ),
    "oom_reworded": (
        "Loading the 72B checkpoint runs out of GPU memory",
        OOM_TRACE.format(home="/data/bob", line=40, gib="1.50") + "\n\nAny idea? I have 80GB.",
    ),
    "oom_same_title": ("CUDA out of memory when loading Qwen2.5 72B", "It fails, see above."),
    "hang": ("Tokenizer hangs on empty string", "Calling tokenizer('') never returns."),
    "hang_reworded": ("tokenizer hangs on an empty string input", "Never returns at all."),
    "illegal": ("Segfault in flash attention kernel", ILLEGAL_ACCESS),
    "illegal_other_title": ("vLLM crashes during batched generation", ILLEGAL_ACCESS),
    "docs": ("Typo in the README install section", "The pip command misses a dash."),
    "template": ("Wrong output for chat template", "The system prompt is dropped."),
    "template_marked": ("System role ignored", "My system message has no effect."),
}


def seed_corpus(repository) -> dict[str, Issue]:
    issues = {
        key: IssueFactory(repository=repository, title=title, body=body)
        for key, (title, body) in CORPUS.items()
    }
    CommentFactory(
        issue=issues["template_marked"], body=f"Duplicate of #{issues['template'].number}"
    )
    return issues
