from django.contrib import admin

from . import models


@admin.register(models.Repository)
class RepositoryAdmin(admin.ModelAdmin):
    list_display = ["full_name", "source", "issues_watermark", "last_synced_at"]
    list_filter = ["source"]
    search_fields = ["owner", "name"]


@admin.register(models.ProjectRepository)
class ProjectRepositoryAdmin(admin.ModelAdmin):
    list_display = ["repository", "project", "group", "mined", "last_synced_at"]
    list_filter = ["mined", "project"]
    raw_id_fields = ["repository"]


class CommentInline(admin.StackedInline):
    model = models.Comment
    extra = 0
    fields = ["author", "created_at", "body"]


@admin.register(models.Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "state", "is_pull_request", "updated_at", "gone"]
    list_filter = ["source", "repository", "state", "is_pull_request", "gone"]
    search_fields = ["title", "number"]
    inlines = [CommentInline]


@admin.register(models.Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["github_id", "issue", "author", "created_at"]
    raw_id_fields = ["issue"]


@admin.register(models.MiningJob)
class MiningJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "project", "status", "pages", "issues", "comments", "requests"]
    list_filter = ["status", "kind"]


@admin.register(models.MiningTask)
class MiningTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "job", "repository", "status", "phase", "attempts", "heartbeat_at"]
    list_filter = ["status"]
    raw_id_fields = ["job", "repository"]
