"""Wire shapes of projects, members, invitations and a project's GitHub token."""

from rest_framework import serializers

from annotate.limits import TEXT_LIMITS as L
from annotate.limits import not_one_line
from annotate.models import (
    Invitation,
    Membership,
    Project,
    Role,
)
from annotate.presets import CODEBOOKS


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="The caller's role.")
    github_token_set = serializers.BooleanField(
        source="has_github_token",
        read_only=True,
        help_text="Whether the project has a GitHub token of its own (never shown).",
    )
    may_use_server_token = serializers.BooleanField(
        read_only=True, help_text="Whether staff let its mining use the server's token."
    )
    license = serializers.CharField(
        read_only=True,
        help_text="SPDX identifier of the dataset's license, written into releases (owners "
        "set it on the settings page).",
    )
    authors = serializers.JSONField(
        read_only=True,
        help_text='The dataset\'s authors as releases cite them: [{"family", "given", '
        '"affiliation", "orcid"}].',
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "guidelines",
            "overlap",
            "codebook_version",
            "github_token_set",
            "may_use_server_token",
            "license",
            "authors",
            "role",
            "created_at",
        ]
        read_only_fields = ["id", "codebook_version", "created_at"]


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=L["description"]
    )
    preset = serializers.BooleanField(
        default=True, help_text="Load a codebook (false: no dimensions at all)."
    )
    codebook = serializers.ChoiceField(
        choices=list(CODEBOOKS),
        default="study",
        help_text="study: the study's categories; empty: the three dimensions, no categories.",
    )

    def validate_name(self, value):
        if problem := not_one_line("name", value):
            raise serializers.ValidationError(problem)
        return value


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "username", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class GitHubTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=255, write_only=True, help_text="The project's own GitHub token (write-only)."
    )


class GitHubTokenStateSerializer(serializers.Serializer):
    github_token_set = serializers.BooleanField()


class InvitationSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    email = serializers.CharField(help_text="Empty unless the invitation is addressed so.")

    class Meta:
        model = Invitation
        fields = ["id", "role", "username", "email", "created_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationCreatedSerializer(InvitationSerializer):
    url = serializers.CharField(
        read_only=True,
        help_text="The single-use link to give the invitee; shown this once (only its hash "
        "is stored).",
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "url"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    username = serializers.RegexField(
        r"^[\w.@+-]{1,150}$", max_length=150, required=False, default=""
    )
    email = serializers.EmailField(required=False, default="")


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
