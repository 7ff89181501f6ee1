"""Deterministic, realistic synthetic GitHub issues for the demo, the emulator and the
benchmarks. Django-free: it yields plain dicts shaped like GitHub's REST payloads.

Each generated issue carries the failure it was written from (`_truth`: symptom, root
cause and stage paths), so the demo can simulate annotators who mostly agree with it.
"""

import hashlib
import random
from datetime import UTC, datetime, timedelta

DEMO_REPOSITORIES = [
    # owner, name, group, metadata
    ("deepseek-ai", "DeepSeek-V3", "DeepSeek", {"model": "DeepSeek-V3", "architecture": "MoE"}),
    ("deepseek-ai", "DeepSeek-R1", "DeepSeek", {"model": "DeepSeek-R1", "architecture": "MoE"}),
    (
        "deepseek-ai",
        "DeepSeek-Coder",
        "DeepSeek",
        {"model": "DeepSeek-Coder", "architecture": "Dense"},
    ),
    ("meta-llama", "llama", "Llama", {"model": "llama", "architecture": "Dense"}),
    ("meta-llama", "llama3", "Llama", {"model": "llama3", "architecture": "Dense"}),
    ("meta-llama", "codellama", "Llama", {"model": "codellama", "architecture": "Dense"}),
    ("QwenLM", "Qwen", "Qwen", {"model": "Qwen", "architecture": "Dense"}),
    ("QwenLM", "Qwen2.5", "Qwen", {"model": "Qwen2.5", "architecture": "Mixed"}),
    ("QwenLM", "Qwen2.5-Coder", "Qwen", {"model": "Qwen2.5-Coder", "architecture": "Dense"}),
]

# (symptom path, root cause path, stage, title templates, error line)
_FAILURES = [
    (
        "Crash > CUDA Error > Out of Memory",
        "Hardware and Resource Limitations > GPU Memory Insufficiency",
        "Inference",
        ["CUDA out of memory when running {model} on {gpu}", "OOM with {n}k context on {gpu}"],
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
    ),
    (
        "Crash > CUDA Error > Out of Memory",
        "Configuration and Parameter Setting Errors > Fine-tuning Configuration Error",
        "Fine-tuning",
        ["OOM during LoRA fine-tuning of {model}", "Fine-tuning {model} runs out of GPU memory"],
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 512.00 MiB",
    ),
    (
        "Loading Failure > Model Loading Error > Validation Failed",
        "Environment Compatibility Issues > Dependency Library Compatibility",
        "Inference",
        [
            "KeyError loading {model} checkpoint with transformers {tv}",
            "Unrecognized configuration class when loading {model}",
        ],
        "ValueError: The checkpoint you are trying to load has model type `qwen2` but Transformers "
        "does not recognize this architecture.",
    ),
    (
        "Loading Failure > Tokenizer Loading Error",
        "Tokenizer and Text Processing Issues > Tokenizer File Error",
        "Inference",
        ["Tokenizer fails to load for {model}", "tokenizer.model not found in {model} release"],
        "OSError: Can't load tokenizer for '{model}'.",
    ),
    (
        "Incorrect Functionality > Generation Quality Anomaly > Repetitive Generation",
        "Configuration and Parameter Setting Errors > Inference Configuration Error",
        "Inference",
        ["{model} repeats the same sentence forever", "Endless repetition with temperature 0"],
        None,
    ),
    (
        "Incorrect Functionality > Generation Quality Anomaly > Meaningless Generation",
        "Data and Computation Issues > Quantization Compatibility Issues",
        "Inference",
        ["Garbage output from {model} with int4 quantization", "{model} AWQ outputs '!!!!!!'"],
        None,
    ),
    (
        "Incorrect Functionality > Generation Quality Anomaly > Special Token Anomaly",
        "Tokenizer and Text Processing Issues > Control Token Issues",
        "Inference",
        ["<|im_end|> appears in {model} output", "Model does not stop at EOS token"],
        None,
    ),
    (
        "Crash > Value-related Error > ShapeError",
        "Distributed and Parallel Computing Issues > Model Parallelism Mismatch",
        "Inference",
        [
            "size mismatch loading {model} with tensor parallel {n}",
            "Shape error with tp={n} on {model}",
        ],
        "RuntimeError: The size of tensor a (4096) must match the size of tensor b (2048) at "
        "non-singleton dimension 1",
    ),
    (
        "Crash > CUDA Error > Communication Error",
        "Distributed and Parallel Computing Issues > Multi-GPU Communication Failure",
        "Fine-tuning",
        ["NCCL timeout when training {model} on {n} nodes", "NCCL error in multi-GPU fine-tuning"],
        "torch.distributed.DistBackendError: NCCL error in: ProcessGroupNCCL.cpp:1970, unhandled "
        "system error",
    ),
    (
        "Hang > Generation Process Stuck",
        "Distributed and Parallel Computing Issues > Multi-process Synchronization",
        "Inference",
        ["{model} hangs after the first request with vLLM", "Inference freezes with {n} GPUs"],
        None,
    ),
    (
        "Crash > Value-related Error > TypeError",
        "API Usage and Interface Issues > API Compatibility Issues",
        "Inference",
        ["TypeError in generate() with {model}", "unexpected keyword argument 'padding_side'"],
        "TypeError: forward() got an unexpected keyword argument 'position_ids'",
    ),
    (
        "Incorrect Functionality > Fine-tuning Anomaly > Fine-tuning Convergence Anomaly",
        "Data and Computation Issues > Numerical Computation and Precision Issues",
        "Fine-tuning",
        ["Loss becomes NaN fine-tuning {model} in fp16", "Loss does not decrease with {model}"],
        None,
    ),
    (
        "Poor Performance > Slow Inference Speed",
        "Algorithm Implementation Defects > Attention Mechanism Implementation Issues",
        "Inference",
        ["{model} inference is 10x slower than reported", "Very slow generation on {gpu}"],
        None,
    ),
    (
        "Crash > Process Killed",
        "Hardware and Resource Limitations > CPU Memory Limitation",
        "Inference",
        ["Process killed while loading {model} shards", "Killed during checkpoint conversion"],
        "Killed",
    ),
]

_GPUS = ["A100 80GB", "RTX 4090", "V100 32GB", "H100", "RTX 3090", "T4"]
_VERSIONS = ["4.36.2", "4.40.0", "4.44.2", "4.46.1", "4.48.0"]
_AUTHORS = ["lingyun", "mkrause", "tpatel", "sgomez", "akhan", "jdoe", "wchen", "rnovak"]
_COMMENTS = [
    "Same here with {gpu}, transformers {tv}.",
    "Could you share the full stack trace and your `pip freeze`?",
    "Upgrading transformers to {tv} fixed it for me.",
    "This is expected with the default settings; please see the README section on deployment.",
    "We have fixed this in the latest release, please pull again.",
    "Still happening on my side after the update.",
]


def _trace(error_line: str, rng: random.Random) -> str:
    frames = [
        ("/usr/lib/python3.10/site-packages/transformers/modeling_utils.py", "from_pretrained"),
        ("/usr/lib/python3.10/site-packages/torch/nn/modules/module.py", "_call_impl"),
        ("/workspace/inference.py", "main"),
        ("/usr/lib/python3.10/site-packages/accelerate/big_modeling.py", "dispatch_model"),
    ]
    lines = ["Traceback (most recent call last):"]
    for _ in range(rng.randint(4, 40)):
        path, func = rng.choice(frames)
        lines.append(f'  File "{path}", line {rng.randint(10, 4000)}, in {func}')
        lines.append(f"    result = {func}(*args, **kwargs)")
    lines.append(error_line)
    return "\n".join(lines)


def generate_issues(
    owner: str,
    name: str,
    count: int,
    seed: int = 0,
    start_number: int = 1,
    pull_request_every: int = 0,
    comments_per_issue: tuple[int, int] = (0, 4),
):
    """Yield `count` GitHub-shaped issue dicts (with a `_comments` list and a `_truth` dict)."""
    rng = random.Random(f"{owner}/{name}/{seed}")
    model = name
    base = datetime(2023, 6, 1, tzinfo=UTC)
    for offset in range(count):
        number = start_number + offset
        symptom, cause, stage, titles, error = rng.choice(_FAILURES)
        subs = {
            "model": model,
            "gpu": rng.choice(_GPUS),
            "tv": rng.choice(_VERSIONS),
            "n": rng.choice([2, 4, 8, 32]),
        }
        title = rng.choice(titles).format(**subs)
        body = [
            f"### Describe the bug\n{title}.",
            "### Reproduction\n```python\nfrom transformers import AutoModelForCausalLM\n"
            f'model = AutoModelForCausalLM.from_pretrained("{owner}/{model}", '
            'device_map="auto")\nout = model.generate(**inputs, max_new_tokens=512)\n```',
        ]
        if error:
            body.append("### Error\n```\n" + _trace(error.format(**subs), rng) + "\n```")
        body.append(
            f"### Environment\n- GPU: {subs['gpu']}\n- transformers: {subs['tv']}\n"
            f"- torch: 2.{rng.randint(0, 5)}.{rng.randint(0, 2)}"
        )
        created = base + timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
        state = "closed" if rng.random() < 0.8 else "open"
        closed = created + timedelta(days=rng.randint(1, 60)) if state == "closed" else None
        is_pr = bool(pull_request_every) and number % pull_request_every == 0
        comments = []
        for c in range(rng.randint(*comments_per_issue)):
            comments.append(
                {
                    "id": number * 1000 + c,
                    "user": {"login": rng.choice(_AUTHORS)},
                    "body": rng.choice(_COMMENTS).format(**subs),
                    "created_at": created + timedelta(hours=c + 1),
                    "updated_at": created + timedelta(hours=c + 1),
                }
            )
        updated = max([created] + [c["updated_at"] for c in comments])
        if closed:
            updated = max(updated, closed)
        issue = {
            "number": number,
            "title": title if not is_pr else f"Fix: {title.lower()}",
            "body": "\n\n".join(body),
            "state": state,
            "user": {"login": rng.choice(_AUTHORS)},
            "labels": [{"name": rng.choice(["bug", "question", "inference", "help wanted"])}],
            "created_at": created,
            "updated_at": updated,
            "closed_at": closed,
            "comments": len(comments),
            "_comments": comments,
            "_truth": {"symptom": symptom, "root_cause": cause, "stage": stage},
        }
        if is_pr:
            issue["pull_request"] = {"url": f"https://github.com/{owner}/{name}/pull/{number}"}
        yield issue


def _pull(full_name: str, number: int, title: str, rng: random.Random, merged_at=None) -> dict:
    return {
        "repository": full_name,
        "number": number,
        "title": title,
        "state": "MERGED" if merged_at else rng.choice(["OPEN", "CLOSED"]),
        "merged_at": merged_at,
        "changed_files": rng.randint(1, 12),
        "additions": rng.randint(1, 400),
        "deletions": rng.randint(0, 200),
    }


def generate_fix_links(owner: str, name: str, issue: dict, seed: int = 0) -> dict:
    """The pull requests and commits linked to one generated issue, deterministic per issue
    (a random stream of its own, so the issues themselves do not change): most closed
    issues have a merged pull request that closes them (merged shortly before the issue
    closed; it also cross-references the issue in its timeline), some are referenced by
    another pull request or by commits. Returns {"closing": [pull], "timeline": [event]},
    an event being {"type": "pull", "pull": pull} or {"type": "commit", ...}."""
    number, closed = issue["number"], issue["closed_at"]
    rng = random.Random(f"{owner}/{name}/{seed}/fixes/{number}")
    full_name = f"{owner}/{name}"
    closing, timeline = [], []
    base = 100_000 + number * 10  # pull request numbers of their own, never an issue's
    if closed is not None and rng.random() < 0.6:
        merged = closed - timedelta(minutes=rng.randint(0, 600))
        pull = _pull(full_name, base, f"Fix #{number}: {issue['title'][:60]}", rng, merged)
        closing.append(pull)
        timeline.append({"type": "pull", "pull": pull})
    if rng.random() < 0.2:
        title = f"Work around #{number} in the loader"
        timeline.append({"type": "pull", "pull": _pull(full_name, base + 1, title, rng)})
    for position in range(rng.choice([0, 0, 0, 1, 2])):
        oid = commit_id(f"{full_name}/{number}/{position}")
        timeline.append(
            {
                "type": "commit",
                "oid": oid,
                "headline": f"Handle the case of #{number} ({position + 1})",
                "date": issue["created_at"] + timedelta(days=rng.randint(0, 30)),
                "changed_files": rng.randint(1, 5),
                "additions": rng.randint(1, 120),
                "deletions": rng.randint(0, 60),
            }
        )
    return {"closing": closing, "timeline": timeline}


def commit_id(text: str) -> str:
    """A stable 40-hex-digit commit id for `text`."""
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - an id, not security
