"""An item's discussion thread over REST: GET lists it (and marks it read), POST adds a
message. Leads and owners of the project, and the annotators of the item while it is in
discussion (reading also once it is settled); others get 404, or 403 for an annotator of
the item outside those states. Errors carry the one body {detail, code, fields}."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import get_discussion_thread, may_post
from annotate.adjudication.inbox import mark_read, post_message
from annotate.adjudication.inbox_views import thread_entries
from annotate.api.base import ERRORS, ApiMixin
from annotate.limits import TEXT_LIMITS
from annotate.models import DiscussionMessage, DiscussionRead


class MessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=TEXT_LIMITS["message"], help_text="Plain text; shown escaped."
    )


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(help_text="The author as the caller knows them ('You').")
    kind = serializers.ChoiceField(choices=DiscussionMessage.Kind.choices)
    body = serializers.CharField()
    created = serializers.DateTimeField()
    mine = serializers.BooleanField()
    unread = serializers.BooleanField()


class ThreadSerializer(serializers.Serializer):
    may_post = serializers.BooleanField()
    results = MessageSerializer(many=True)


class DiscussionView(ApiMixin, APIView):
    pagination_class = None

    @extend_schema(
        operation_id="item_discussion_read",
        summary="An item's discussion thread, oldest first (marks it read for the caller)",
        responses={200: ThreadSerializer, **ERRORS},
    )
    def get(self, request, slug, item_id):
        project, membership, item = get_discussion_thread(request.user, slug, item_id)
        read = DiscussionRead.objects.filter(item=item, user=request.user).first()
        entries = thread_entries(project, membership, item, read_at=read and read.read_at)
        if entries:
            mark_read(item=item, user=request.user)
        data = {"may_post": may_post(membership, item), "results": entries}
        return Response(ThreadSerializer(data).data)

    @extend_schema(
        operation_id="item_discussion_post",
        summary="Add a message to an item's discussion thread",
        request=MessageInputSerializer,
        responses={201: MessageSerializer, **ERRORS},
    )
    def post(self, request, slug, item_id):
        project, membership, item = get_discussion_thread(request.user, slug, item_id, write=True)
        data = MessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = post_message(item=item, author=request.user, body=data.validated_data["body"])
        entry = next(e for e in thread_entries(project, membership, item) if e["id"] == message.pk)
        return Response(MessageSerializer(entry).data, status=status.HTTP_201_CREATED)
