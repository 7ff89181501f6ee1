"""REST resources of a project's items and the caller's assignments."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from annotate.access import (
    get_item_for_user,
    own_assignments,
    visible_items,
)
from annotate.api import filters
from annotate.api.base import ERRORS, ProjectScoped, listing
from annotate.api.serializers import AssignmentSerializer, ItemSerializer
from annotate.labeling.shown import shown_state, shown_state_of
from annotate.models import (
    Assignment,
    Item,
)


@listing(ItemSerializer)
class ItemList(ProjectScoped, generics.ListAPIView):
    """The project's items (annotators: those they were assigned, in the state they may see)."""

    serializer_class = ItemSerializer
    filterset_class = filters.ItemFilter
    queryset = Item.objects.none()

    def get_queryset(self):
        if self.faking():
            return Item.objects.none()
        items = visible_items(self.request.user, self.project, self.membership)
        items = items.select_related("issue__repository")
        shown = shown_state(user=self.request.user, role=self.membership.role)
        return items.annotate(shown_state=shown)


@extend_schema(responses={200: ItemSerializer, **ERRORS})
class ItemDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = ItemSerializer

    def get(self, request, slug, item_id):
        item = get_item_for_user(request.user, self.project, item_id)
        item.shown_state = shown_state_of(item, user=request.user, role=self.membership.role)
        return Response(ItemSerializer(item, context=self.get_serializer_context()).data)


@listing(AssignmentSerializer)
class MyAssignmentList(ProjectScoped, generics.ListAPIView):
    """The caller's own assignments in the project."""

    serializer_class = AssignmentSerializer
    queryset = Assignment.objects.none()

    def get_queryset(self):
        return own_assignments(self.project, self.request.user)
