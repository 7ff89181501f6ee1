"""A client for OpenAI-compatible chat-completions endpoints (vLLM, llama.cpp's server,
Ollama, hosted APIs): POST {base_url}/chat/completions over requests, with a timeout, and
retries with exponential backoff for what passes (timeouts, lost connections, 429 with its
Retry-After, 5xx). Token counts come from the reply's `usage`. Waits are capped at
settings.RATER_MAX_BACKOFF_SECONDS: a worker never sleeps for minutes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


@dataclass
class Reply:
    content: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    attempts: int


class EndpointError(Exception):
    """The endpoint did not answer usably after the retries; the message says how."""

    def __init__(self, message: str, attempts: int, seconds: float, reason: str = "bad_reply"):
        super().__init__(message)
        self.reason = reason  # a RaterItem.Reason value
        self.attempts = attempts
        self.seconds = seconds


def _read_capped(response) -> bytes | None:
    """The reply's body, or None when it is longer than RATER_MAX_REPLY_BYTES (a hostile
    or broken endpoint must not fill the worker's memory)."""
    limit = settings.RATER_MAX_REPLY_BYTES
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# No request has this many tokens; a larger count is a hostile or broken reply (and would
# overflow the per-item counters, failing the run).
MAX_TOKENS = 10**8


def _usage(data: dict) -> tuple[int, int]:
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    numbers = [usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)]
    return tuple(
        min(n, MAX_TOKENS) if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else 0
        for n in numbers
    )


@sensitive_variables("api_key", "headers")
def chat(
    *,
    base_url: str,
    api_key: str,
    model: str,
    messages: list[dict],
    temperature: float,
    seed: int | None,
    session: requests.Session | None = None,
) -> Reply:
    """One chat completion; EndpointError when every attempt failed or the endpoint
    refused the request (a 4xx other than 429 is not retried)."""
    url = base_url.rstrip("/") + "/chat/completions"
    body = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "response_format": {"type": "json_object"},
    }
    if seed is not None:
        body["seed"] = seed
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    attempts = settings.RATER_HTTP_ATTEMPTS
    timeout = settings.RATER_HTTP_TIMEOUT_SECONDS
    http = session or requests.Session()
    started = time.monotonic()
    problem, reason = "", ""
    for attempt in range(1, attempts + 1):
        wait = None
        try:
            response = http.post(url, json=body, headers=headers, timeout=timeout, stream=True)
            if response.status_code == 200:
                raw = _read_capped(response)
            else:
                response.close()
        except requests.Timeout:
            problem, reason = f"no answer within {timeout:g} s", "timeout"
        except requests.ConnectionError:
            problem, reason = "the endpoint could not be reached", "unreachable"
        except requests.RequestException as failure:
            # An invalid URL, a redirect to another scheme or in a loop: not retried.
            raise EndpointError(
                f"the request could not be made ({type(failure).__name__})",
                attempt,
                time.monotonic() - started,
            ) from None
        else:
            if response.status_code == 200 and raw is None:
                raise EndpointError(
                    f"the reply is too large (over {settings.RATER_MAX_REPLY_BYTES} bytes)",
                    attempt,
                    time.monotonic() - started,
                )
            if response.status_code == 200:
                try:
                    data = json.loads(raw)
                    content = data["choices"][0]["message"]["content"]
                except (ValueError, KeyError, IndexError, TypeError, RecursionError):
                    content = None
                if isinstance(content, str):
                    prompt_tokens, completion_tokens = _usage(data)
                    return Reply(
                        content,
                        prompt_tokens,
                        completion_tokens,
                        time.monotonic() - started,
                        attempt,
                    )
                problem, reason = "the reply is not a chat completion", "bad_reply"
            elif response.status_code == 429:
                problem, reason = "rate limited (429)", "rate_limited"
                wait = _retry_after(response)
            elif response.status_code >= 500:
                problem, reason = f"server error ({response.status_code})", "server_error"
            else:
                raise EndpointError(
                    f"the endpoint refused the request ({response.status_code})",
                    attempt,
                    time.monotonic() - started,
                    reason="refused",
                )
        if attempt < attempts:
            backoff = settings.RATER_BACKOFF_SECONDS * 2 ** (attempt - 1)
            time.sleep(
                min(wait if wait is not None else backoff, settings.RATER_MAX_BACKOFF_SECONDS)
            )
    raise EndpointError(
        f"{problem} after {attempts} attempts", attempts, time.monotonic() - started, reason
    )
