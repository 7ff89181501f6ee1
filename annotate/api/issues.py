"""REST resources of a project's mined issues and their comments (text through TextAccess)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from annotate.access import project_issues
from annotate.api import filters
from annotate.api.base import ERRORS, ProjectScoped, listing
from annotate.api.serializers import CommentSerializer, IssueSerializer
from mining.access import TextAccess
from mining.models import Comment, Issue, project_view


@listing(IssueSerializer)
class IssueList(ProjectScoped, generics.ListAPIView):
    """Issues of the project's items."""

    serializer_class = IssueSerializer
    filterset_class = filters.IssueFilter
    queryset = Issue.objects.none()

    def get_queryset(self):
        if self.faking():
            return Issue.objects.none()
        issues = project_issues(self.project).select_related("repository")
        return issues.annotate(
            project_group=project_view("group", project=self.project, repository="repository_id")
        )


@extend_schema(responses={200: IssueSerializer, **ERRORS})
class IssueDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = IssueSerializer
    lookup_url_kwarg = "issue_id"
    queryset = Issue.objects.none()

    def get_queryset(self):
        if self.faking():
            return Issue.objects.none()
        return project_issues(self.project).select_related("repository")


@listing(CommentSerializer)
class CommentList(ProjectScoped, generics.ListAPIView):
    serializer_class = CommentSerializer
    queryset = Comment.objects.none()

    def get_queryset(self):
        if self.faking():
            return Comment.objects.none()
        issue = get_object_or_404(project_issues(self.project), pk=self.kwargs["issue_id"])
        return TextAccess(self.project).comments(issue)
