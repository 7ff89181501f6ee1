"""The LLM rater's run: for each item the run has not done, ask the endpoint (prompt from
the codebook), check the answer against the codebook, ask again when it is invalid, and
record the item as labeled, out of scope, or failed (never a label from a bad answer).
Each item is written in one transaction with its RaterItem row: the run's idempotency and
resume key."""

from __future__ import annotations

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from annotate.codebook.queries import read_codebook
from annotate.models import RaterItem, RaterLabel, RaterRun, Unreadable
from annotate.raters import llm, prompt
from annotate.raters.runs import RunFailed, items_to_rate, note_progress
from annotate.raters.texts import item_texts, quote_in_any, squash

BATCH = 200


@sensitive_variables("key")
def rate(run: RaterRun) -> None:
    """Rate every item the run has not done, in batches of BATCH (texts read per batch)."""
    rater = run.rater
    try:
        key = rater.api_key()
    except Unreadable:
        raise RunFailed(
            "The rater's key cannot be decrypted (TOKEN_ENCRYPTION_KEY changed); "
            "add the rater again with its key."
        ) from None
    book = read_codebook(rater.project)
    session = requests.Session()
    while True:
        batch = list(items_to_rate(run)[:BATCH])
        if not batch:
            return
        for text in item_texts(items_to_rate(run).filter(pk__in=[i.pk for i in batch])):
            _rate_item(run, text, book, key, session)


@sensitive_variables("key")
def _rate_item(run, text, book, key, session) -> None:
    rater = run.rater
    # The configuration the run stored when it started, not the rater's current one: a
    # resumed run asks with the model it began with (the rater may have been changed).
    config = run.config
    issue_text = text.for_prompt(settings.RATER_PROMPT_CHARS)
    # Quotes are checked against the issue's own words as given, never the prompt's
    # headings or codebook: a quote of "Title:" or of a definition is not evidence.
    own_text = [squash(part) for part in text.given(settings.RATER_PROMPT_CHARS)]
    asked = prompt.messages(book, rater.project.guidelines, issue_text)
    tokens = [0, 0]
    seconds, attempts, invalid = 0.0, 0, 0
    answer, error, reason = None, "", ""
    for _ in range(settings.RATER_ANSWER_ATTEMPTS):
        try:
            reply = llm.chat(
                base_url=config["base_url"],
                api_key=key,
                model=config["model"],
                messages=asked,
                temperature=config["temperature"],
                seed=config["seed"],
                session=session,
            )
        except llm.EndpointError as failure:
            attempts += failure.attempts
            seconds += failure.seconds
            error, reason = str(failure), failure.reason
            break
        attempts += reply.attempts
        seconds += reply.seconds
        tokens[0] += reply.prompt_tokens
        tokens[1] += reply.completion_tokens
        try:
            answer = prompt.parse_answer(reply.content, book)
            break
        except prompt.InvalidAnswer as problem:
            invalid += 1
            error, reason = f"invalid answer: {problem}", problem.reason
    labels = []
    if answer is not None:
        outcome = (
            RaterItem.Outcome.OUT_OF_SCOPE if answer.out_of_scope else RaterItem.Outcome.LABELED
        )
        error, reason = "", ""
        for number, record in enumerate(answer.records):
            for dimension_key, (category_id, confidence, evidence) in record.items():
                labels.append(
                    RaterLabel(
                        run=run,
                        item_id=text.item_id,
                        record=number,
                        dimension=book.by_key[dimension_key],
                        category_id=category_id,
                        confidence=confidence,
                        evidence=evidence,
                        quote_found=quote_in_any(evidence, own_text),
                    )
                )
    else:
        outcome = RaterItem.Outcome.FAILED
    try:
        with transaction.atomic():
            RaterItem.objects.create(
                run=run,
                item_id=text.item_id,
                outcome=outcome,
                reason=reason,
                attempts=attempts,
                error=error.replace("\x00", "")[:1000],
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
                seconds=seconds,
            )
            RaterLabel.objects.bulk_create(labels)
            note_progress(
                run,
                items_done=1,
                labels_written=len(labels),
                invalid_answers=invalid,
                failed_items=int(outcome == RaterItem.Outcome.FAILED),
                quotes_not_found=sum(not label.quote_found for label in labels),
                prompt_tokens=tokens[0],
                completion_tokens=tokens[1],
            )
    except IntegrityError:
        return  # another delivery of this run wrote the item first: nothing twice
