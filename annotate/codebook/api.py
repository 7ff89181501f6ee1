"""REST resources of a project's codebook: the tree, and one category's edits."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    MANAGERS,
    project_categories,
)
from annotate.api.base import ERRORS, ProjectScoped
from annotate.codebook import services as codebook
from annotate.codebook.queries import codebook_data
from annotate.codebook.serializers import (
    CategoryEditSerializer,
    CategoryNodeSerializer,
    CodebookSerializer,
)


@extend_schema(responses={200: CodebookSerializer, **ERRORS})
class CodebookDetail(ProjectScoped, APIView):
    """Dimensions with their category trees and the codebook's version."""

    def get(self, request, slug):
        return Response(codebook_data(self.project))


class CategoryDetail(ProjectScoped, APIView):
    """Owners and leads edit a category's name, description and examples (merge and split
    belong to adjudication)."""

    roles = MANAGERS

    @extend_schema(
        request=CategoryEditSerializer, responses={200: CategoryNodeSerializer, **ERRORS}
    )
    def patch(self, request, slug, category_id):
        category = get_object_or_404(project_categories(self.project), pk=category_id)
        form = CategoryEditSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if "name" in data and data["name"] != category.name:
            category = codebook.rename_category(
                project=self.project, actor=request.user, category=category, name=data["name"]
            )
        if "description" in data or "examples" in data:
            category = codebook.edit_category(
                project=self.project,
                actor=request.user,
                category=category,
                description=data.get("description", category.description),
                examples=data.get("examples"),
            )
        data = {**{f: getattr(category, f) for f in ("id", "name", "path", "depth")}}
        data.update(description=category.description, examples=category.examples)
        data.update(retired=category.retired, children=[])
        return Response(data)
