"""Routes of the generic read resources: issues and comments, items, assignments,
annotations and final labels."""

from django.urls import path

from annotate.api import annotations, issues, items

P = "api/projects/<slug:slug>/"

urlpatterns = [
    path(P + "issues/", issues.IssueList.as_view(), name="api-issues"),
    path(P + "issues/<int:issue_id>/", issues.IssueDetail.as_view(), name="api-issue"),
    path(P + "issues/<int:issue_id>/comments/", issues.CommentList.as_view(), name="api-comments"),
    path(P + "items/", items.ItemList.as_view(), name="api-items"),
    path(P + "items/<int:item_id>/", items.ItemDetail.as_view(), name="api-item"),
    path(P + "my/assignments/", items.MyAssignmentList.as_view(), name="api-my-assignments"),
    path(P + "my/annotations/", annotations.MyAnnotationList.as_view(), name="api-my-annotations"),
    path(P + "annotations/", annotations.AnnotationList.as_view(), name="api-annotations"),
    path(P + "final-labels/", annotations.FinalLabelList.as_view(), name="api-final-labels"),
]
