from django.contrib import admin

from .models import KeyFigure, Submission, Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "organisers",
        "opened_on",
        "closed_on",
        "declared_initiatives",
        "is_accepting_submissions",
    ]
    list_filter = ["is_accepting_submissions"]
    search_fields = ["title", "organisers"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["categories"]


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["initiative", "survey", "decision", "submitted_at", "reviewed_at"]
    list_filter = ["decision", "survey"]
    list_select_related = ["initiative", "survey"]
    search_fields = ["initiative__title", "submitter_name", "submitter_email"]
    autocomplete_fields = ["survey", "initiative", "reviewed_by"]
    readonly_fields = ["submitted_at"]
    date_hierarchy = "submitted_at"


@admin.register(KeyFigure)
class KeyFigureAdmin(admin.ModelAdmin):
    list_display = ["label", "display_value", "source", "period", "order"]
    list_editable = ["order"]
    search_fields = ["label", "explanation", "source"]
    prepopulated_fields = {"slug": ["label"]}
