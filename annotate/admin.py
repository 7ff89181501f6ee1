from django.contrib import admin

from annotate import models


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "may_use_server_token", "codebook_version", "created_at"]
    list_filter = ["may_use_server_token"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]


@admin.register(models.Dimension)
class DimensionAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "project", "order", "required"]
    list_filter = ["project"]


@admin.register(models.Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "dimension", "depth", "retired"]
    list_filter = ["dimension__project", "dimension__key", "depth", "retired"]
    search_fields = ["path", "description"]
    readonly_fields = ["path", "depth"]


@admin.register(models.CodebookChange)
class CodebookChangeAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "kind", "user", "created_at"]
    list_filter = ["project", "kind"]


@admin.register(models.Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "issue", "state", "calibration", "submitted_count"]
    list_filter = ["project", "state", "calibration", "edited_since_labeling"]
    search_fields = ["issue__title", "issue__repository__name"]
    raw_id_fields = ["issue"]


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["item", "annotator", "state", "assigned_at", "completed_at"]
    list_filter = ["state", "item__project"]
    raw_id_fields = ["item"]


class AnnotationLabelInline(admin.TabularInline):
    model = models.AnnotationLabel
    extra = 0
    raw_id_fields = ["item", "category"]


@admin.register(models.Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["item", "annotator", "out_of_scope", "confidence", "round", "updated_at"]
    list_filter = ["item__project", "out_of_scope", "round"]
    raw_id_fields = ["item"]
    inlines = [AnnotationLabelInline]


class FinalRecordLabelInline(admin.TabularInline):
    model = models.FinalRecordLabel
    extra = 0
    raw_id_fields = ["item", "category"]


@admin.register(models.FinalLabel)
class FinalLabelAdmin(admin.ModelAdmin):
    list_display = ["item", "provenance", "out_of_scope", "decided_by", "decided_at"]
    list_filter = ["item__project", "provenance", "error_kind", "codebook_needs_work"]
    raw_id_fields = ["item"]
    inlines = [FinalRecordLabelInline]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "item", "actor", "kind"]
    list_filter = ["project", "kind"]
    raw_id_fields = ["item"]

    def has_change_permission(self, request, obj=None):
        return False  # the trail is append-only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "sha256", "size", "created_at"]
    list_filter = ["project"]


@admin.register(models.Conflict)
class ConflictAdmin(admin.ModelAdmin):
    list_display = ["item", "kind", "dimension", "level", "category_a", "category_b", "resolved"]
    list_filter = ["project", "kind", "resolved", "level"]
    raw_id_fields = ["item", "category_a", "category_b"]


class AnnotationRoundLabelInline(admin.TabularInline):
    model = models.AnnotationRoundLabel
    extra = 0
    raw_id_fields = ["item", "category"]


@admin.register(models.AnnotationRound)
class AnnotationRoundAdmin(admin.ModelAdmin):
    list_display = ["item", "annotator", "round", "out_of_scope", "frozen_at"]
    list_filter = ["round", "out_of_scope"]
    raw_id_fields = ["annotation", "item"]
    inlines = [AnnotationRoundLabelInline]
