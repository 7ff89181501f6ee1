"""The discussion inbox (issue #15, defect 7): an annotator is told that an item came back
for discussion, reads the lead's note, replies in a thread kept with the item, gets a badge
in the navigation and a confirmation after revising; the thread's walls."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.access import inbox_badge
from annotate.adjudication.discussion import end_discussion, start_discussion
from annotate.adjudication.inbox import mark_read, post_message
from annotate.models import DiscussionMessage, Item, Role
from annotate.projects import services
from tests.builders import ASSERTION, DEVICE, OOM, category, in_conflict, record, revise
from tests.factories import UserFactory

NOTE = "Look at the trace again: is it really memory?"


@pytest.fixture
def conflict(project, cast):
    return in_conflict(project, cast, [record(OOM)], [record(DEVICE)])


@pytest.fixture
def sent_back(project, cast, conflict):
    start_discussion(item=conflict, actor=cast["lead"], note=NOTE)
    return Item.objects.get(pk=conflict.pk)


def _url(name, project, item=None):
    args = [project.slug] + ([item.pk] if item is not None else [])
    return reverse(name, args=args)


def _form(project, records):
    data = {"record_count": len(records)}
    for index, rec in enumerate(records):
        for key, path in rec.items():
            data[f"r{index}-{key}"] = category(project, key, path).pk
    return data


def test_annotator_is_told_an_item_came_back_with_the_leads_note(
    client_for, cast, project, sent_back
):
    client = client_for(cast["annotator_a"])
    html = client.get(_url("project-detail", project)).content.decode()
    assert 'id="inbox-badge">1<' in html
    inbox = client.get(_url("inbox", project)).content.decode()
    assert f'id="inbox-{sent_back.pk}"' in inbox
    assert NOTE.replace("'", "&#x27;") in inbox
    assert 'data-status="awaiting"' in inbox
    page = client.get(_url("item-discussion", project, sent_back)).content.decode()
    assert NOTE.replace("'", "&#x27;") in page and 'id="revise-link"' in page


def test_a_reply_is_kept_in_the_thread_and_the_lead_sees_it_on_the_conflict_page(
    client_for, cast, project, sent_back
):
    annotator, lead = client_for(cast["annotator_a"]), client_for(cast["lead"])
    reply = annotator.post(
        _url("item-discussion", project, sent_back), {"body": "It is <b>memory</b>."}
    )
    assert reply.status_code == 302 and reply["Location"].endswith("/discussion/#discussion-thread")
    assert inbox_badge(cast["lead"], project.slug) == 1  # an unread reply
    html = lead.get(_url("conflict-detail", project, sent_back)).content.decode()
    assert "It is &lt;b&gt;memory&lt;/b&gt;." in html  # plain text, escaped
    assert "annotator_a</strong>" in html and 'class="badge">new<' in html
    assert inbox_badge(cast["lead"], project.slug) == 0  # read now
    # The lead answers from the conflict page and lands back on it.
    answer = lead.post(
        _url("item-discussion", project, sent_back), {"body": "Agreed.", "back": "conflict"}
    )
    assert answer["Location"].endswith(f"/conflicts/{sent_back.pk}/#discussion-thread")
    assert inbox_badge(cast["annotator_a"], project.slug) == 1  # awaiting, and unread
    history = lead.get(_url("item-history", project, sent_back)).content.decode()
    assert 'id="history-thread"' in history and "It is &lt;b&gt;memory&lt;/b&gt;." in history
    thread = annotator.get(_url("api-item-discussion", project, sent_back)).json()
    assert [m["kind"] for m in thread["results"]] == ["sent_back", "message", "message"]
    assert [m["author"] for m in thread["results"]] == ["lead (lead)", "You", "lead (lead)"]
    assert thread["results"][2]["unread"] and thread["may_post"]


def test_names_follow_the_projects_hidden_names(client_for, cast, project, sent_back):
    project.hide_annotator_names = True
    project.save(update_fields=["hide_annotator_names"])
    post_message(item=sent_back, author=cast["annotator_a"], body="mine")
    post_message(item=sent_back, author=cast["annotator_b"], body="theirs")
    lead = client_for(cast["lead"]).get(_url("api-item-discussion", project, sent_back)).json()
    assert [m["author"] for m in lead["results"]][1:] == ["Annotator A", "Annotator B"]
    b = client_for(cast["annotator_b"]).get(_url("api-item-discussion", project, sent_back))
    assert [m["author"] for m in b.json()["results"]][1:] == ["Annotator A", "You"]
    assert "annotator_a" not in b.content.decode()


def test_the_badge_is_one_query(cast, project, django_assert_num_queries):
    items = [in_conflict(project, cast, [record(OOM)], [record(DEVICE)]) for _ in range(4)]
    for item in items[:3]:
        start_discussion(item=item, actor=cast["lead"], note="again")
    revise(items[0], cast["annotator_a"], [record(DEVICE)])  # revised: no longer awaiting
    post_message(item=items[0], author=cast["lead"], body="thanks")  # but unread
    revise(items[1], cast["annotator_a"], [record(DEVICE)])  # revised, and read:
    mark_read(item=items[1], user=cast["annotator_a"])
    post_message(item=items[3], author=cast["lead"], body="before discussion")
    with django_assert_num_queries(1):
        assert inbox_badge(cast["annotator_a"], project.slug) == 2  # items 0 and 2
    with django_assert_num_queries(1):
        assert inbox_badge(cast["lead"], project.slug) == 0  # the lead wrote everything
    post_message(item=items[2], author=cast["annotator_b"], body="why?")
    with django_assert_num_queries(1):
        assert inbox_badge(cast["lead"], project.slug) == 1
    with django_assert_num_queries(1):
        assert inbox_badge(cast["outsider"], project.slug) == 0


def test_the_navigation_counts_the_badge_in_one_query(client_for, cast, project, sent_back):
    """A project page with the badge costs one query more than the same page without it."""
    client = client_for(cast["annotator_a"])
    url = _url("label-mine", project)
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    assert 'id="inbox-badge">1<' in html
    badge = [q["sql"] for q in queries.captured_queries if "annotate_discussionmessage" in q["sql"]]
    assert len(badge) == 1


def test_an_annotator_not_on_the_item_gets_404(client_for, api_for, cast, project, sent_back):
    carol_user = UserFactory(username="carol")
    services.add_member(project=project, username="carol", role=Role.ANNOTATOR)
    carol = client_for(carol_user)
    assert carol.get(_url("item-discussion", project, sent_back)).status_code == 404
    assert carol.post(_url("item-discussion", project, sent_back), {"body": "x"}).status_code == 404
    api = api_for(carol_user)
    reply = api.get(_url("api-item-discussion", project, sent_back))
    assert reply.status_code == 404
    assert set(reply.json()) == {"detail", "code", "fields"}
    posted = api.post(_url("api-item-discussion", project, sent_back), {"body": "x"})
    assert posted.status_code == 404
    assert 'id="inbox-empty"' in carol.get(_url("inbox", project)).content.decode()
    assert not DiscussionMessage.objects.filter(body="x").exists()


def test_another_projects_member_gets_404(client_for, api_for, cast, sent_back, project):
    other_owner = UserFactory(username="other_owner")
    other = services.create_project(name="Other", slug="other", owner=other_owner)
    for client in (client_for(other_owner), client_for(cast["outsider"])):
        assert client.get(_url("item-discussion", project, sent_back)).status_code == 404
        assert client.get(_url("inbox", project)).status_code == 404
    # Naming this project's item through the other project's URLs: 404 too.
    reply = api_for(other_owner).post(
        reverse("api-item-discussion", args=[other.slug, sent_back.pk]), {"body": "x"}
    )
    assert reply.status_code == 404
    assert not DiscussionMessage.objects.filter(body="x").exists()


def test_no_label_or_message_leaks_before_the_item_is_sent_back(
    client_for, api_for, cast, project, conflict
):
    """In conflict, the thread (where a lead may compare both sides) stays closed to the
    annotators: no inbox row, no badge, 403 on the thread; B's labels never reach A."""
    post_message(item=conflict, author=cast["lead"], body="B picked Device Error here")
    a = client_for(cast["annotator_a"])
    assert inbox_badge(cast["annotator_a"], project.slug) == 0
    inbox = a.get(_url("inbox", project)).content.decode()
    assert "Device Error" not in inbox and "inbox-empty" in inbox
    assert a.get(_url("item-discussion", project, conflict)).status_code == 403
    reply = api_for(cast["annotator_a"]).get(_url("api-item-discussion", project, conflict))
    assert reply.status_code == 403 and "Device Error" not in reply.content.decode()
    assert reply.json()["code"] == "permission_denied"
    posted = api_for(cast["annotator_a"]).post(
        _url("api-item-discussion", project, conflict), {"body": "let me see"}
    )
    assert posted.status_code == 403


def test_a_settled_thread_is_read_only_for_annotators(api_for, cast, project, sent_back):
    # Annotator A comes round to B's label: the item settles on agreement.
    assert revise(sent_back, cast["annotator_a"], [record(DEVICE)]) == Item.State.SETTLED
    api = api_for(cast["annotator_a"])
    thread = api.get(_url("api-item-discussion", project, sent_back)).json()
    assert thread["may_post"] is False
    reply = api.post(_url("api-item-discussion", project, sent_back), {"body": "late"})
    assert reply.status_code == 403 and "closed" in reply.json()["detail"]


def test_an_empty_or_long_message_is_refused_with_the_error_body(
    client_for, api_for, cast, project, sent_back
):
    api = api_for(cast["annotator_a"])
    url = _url("api-item-discussion", project, sent_back)
    empty = api.post(url, {"body": "   "}, format="json")
    assert empty.status_code == 400 and set(empty.json()) == {"detail", "code", "fields"}
    long = api.post(url, {"body": "x" * 5001}, format="json")
    assert long.status_code == 400 and "body" in long.json()["fields"]
    # On the page: back to the thread with the error and the draft as typed.
    client = client_for(cast["annotator_a"])
    page_url = _url("item-discussion", project, sent_back)
    client.post(page_url, {"body": "y" * 5001})
    html = client.get(page_url).content.decode()
    assert 'id="thread-error"' in html and "over its limit of 5,000" in html
    assert "y" * 5001 in html
    assert 'id="thread-error"' not in client.get(page_url).content.decode()  # one-shot
    assert DiscussionMessage.objects.filter(item=sent_back).count() == 1  # the note only


def test_revising_in_discussion_is_confirmed_and_noted_in_the_thread(
    client_for, cast, project, sent_back
):
    client = client_for(cast["annotator_a"])
    client.get(_url("item-discussion", project, sent_back))  # reads the lead's note
    url = _url("label-item", project, sent_back)
    response = client.post(url, _form(project, [record(DEVICE)]), follow=True)
    assert "Your revision of" in response.content.decode()
    assert "the lead sees it" in response.content.decode()
    entries = DiscussionMessage.objects.filter(item=sent_back).values_list("kind", flat=True)
    assert list(entries) == ["sent_back", "revised"]
    assert inbox_badge(cast["annotator_a"], project.slug) == 0
    assert inbox_badge(cast["lead"], project.slug) == 1  # the revision is news to the lead
    # Through htmx, the confirmation is on the workspace that replaces the form.
    swapped = client.post(url, _form(project, [record(ASSERTION)]), HTTP_HX_REQUEST="true")
    assert 'id="revision-saved"' in swapped.content.decode()


def test_leads_inbox_lists_items_in_discussion(client_for, cast, project, sent_back):
    html = client_for(cast["lead"]).get(_url("inbox", project)).content.decode()
    assert f'id="inbox-{sent_back.pk}"' in html
    assert _url("conflict-detail", project, sent_back) in html


def test_the_history_page_reads_the_thread_once_however_many_events(
    client_for, cast, project, sent_back
):
    """The history page shows the thread once: it is not read again for every event."""
    lead = client_for(cast["lead"])
    url = _url("item-history", project, sent_back)
    lead.get(url)
    with CaptureQueriesContext(connection) as few:
        assert lead.get(url).status_code == 200
    for _ in range(3):
        end_discussion(item=Item.objects.get(pk=sent_back.pk), actor=cast["lead"])
        start_discussion(item=Item.objects.get(pk=sent_back.pk), actor=cast["lead"], note="again")
    with CaptureQueriesContext(connection) as many:
        assert lead.get(url).status_code == 200
    assert len(many) == len(few)


def test_an_inbox_longer_than_a_page_says_more_are_waiting(
    client_for, cast, project, sent_back, monkeypatch
):
    from annotate.adjudication import inbox_views

    second = in_conflict(project, cast, [record(OOM)], [record(ASSERTION)])
    start_discussion(item=second, actor=cast["lead"], note=NOTE)
    client = client_for(cast["annotator_a"])
    assert 'id="inbox-more"' not in client.get(_url("inbox", project)).content.decode()
    monkeypatch.setattr(inbox_views, "INBOX_ROWS", 1)
    html = client.get(_url("inbox", project)).content.decode()
    assert html.count('class="inbox-row"') == 1
    assert 'id="inbox-more"' in html and "Showing the first 1" in html
