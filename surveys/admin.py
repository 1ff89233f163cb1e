from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join

from initiatives.admin import HistoryAdmin, InitiativeForm, PreviewMixin
from initiatives.models import Initiative

from . import submissions
from .imports import import_answers
from .models import KeyFigure, PendingInitiative, Submission, Survey


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


class ImportForm(forms.Form):
    survey = forms.ModelChoiceField(Survey.objects.all(), label="Enquête")
    file = forms.FileField(
        label="Fichier CSV",
        help_text="UTF-8, séparateur virgule, une ligne d'en-tête (voir les colonnes "
        "attendues ci-dessous).",
    )
    dry_run = forms.BooleanField(
        label="Essai à blanc : vérifier sans rien enregistrer",
        required=False,
        initial=True,
    )


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "initiative",
        "decision",
        "survey",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
    ]
    list_filter = ["initiative__status", "survey"]
    list_select_related = ["initiative", "survey", "reviewed_by"]
    search_fields = ["initiative__title", "submitter_name", "submitter_email"]
    autocomplete_fields = ["survey", "initiative", "reviewed_by"]
    readonly_fields = ["submitted_at", "contact_purged_at"]
    date_hierarchy = "submitted_at"

    @admin.display(description="décision", ordering="initiative__status")
    def decision(self, submission):
        return submission.decision

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [
            path("importer/", view, name="surveys_submission_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Import survey answers from a CSV file: a dry run lists what would be
        created and every row's errors; the import is all or nothing."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            result = import_answers(
                form.cleaned_data["file"],
                form.cleaned_data["survey"],
                dry_run=form.cleaned_data["dry_run"],
            )
            if result.created:
                self.message_user(
                    request,
                    f"{len(result.created)} proposition(s) importée(s), en attente "
                    "de modération.",
                    messages.SUCCESS,
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Importer des réponses à l'enquête",
            "opts": self.model._meta,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/surveys/import.html", context)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Motif du refus",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="Interne : jamais publié.",
    )


@admin.register(PendingInitiative)
class PendingInitiativeAdmin(PreviewMixin, HistoryAdmin):
    """The moderation queue: what was submitted and awaits a decision."""

    form = InitiativeForm
    list_display = [
        "title",
        "collectivity",
        "submitted_at",
        "possible_duplicates",
        "preview_link",
    ]
    list_select_related = ["collectivity__department", "submission"]
    search_fields = ["title", "collectivity__name", "collectivity__code"]
    autocomplete_fields = ["collectivity", "category", "themes", "survey"]
    filter_horizontal = ["vigilance_points"]
    readonly_fields = ["status", "created_at", "updated_at"]
    exclude = ["published_at"]
    actions = ["publish", "reject"]
    ordering = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Initiative.Status.SUBMITTED)

    def has_add_permission(self, request):
        return False

    @admin.display(description="reçue le", ordering="created_at")
    def submitted_at(self, initiative):
        return initiative.created_at

    @admin.display(description="doublons possibles")
    def possible_duplicates(self, initiative):
        similar = Initiative.objects.similar_to(initiative)
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (
                        reverse("admin:initiatives_initiative_change", args=[o.pk]),
                        o.title,
                    )
                    for o in similar
                ),
            )
            or "–"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        initiative = self.get_object(request, object_id)
        if initiative is not None:
            similar = Initiative.objects.similar_to(initiative)
            if similar:
                titles = ", ".join(f"« {o.title} »" for o in similar)
                self.message_user(
                    request,
                    f"Doublon possible : {initiative.collectivity.name} a déjà "
                    f"{titles}.",
                    messages.WARNING,
                )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Publier les initiatives sélectionnées")
    def publish(self, request, queryset):
        count = submissions.decide(queryset, request.user, Initiative.Status.PUBLISHED)
        self.message_user(
            request, f"{count} initiative(s) publiée(s).", messages.SUCCESS
        )

    @admin.action(description="Refuser les initiatives sélectionnées (avec un motif)")
    def reject(self, request, queryset):
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            with transaction.atomic():
                count = submissions.decide(
                    queryset,
                    request.user,
                    Initiative.Status.REJECTED,
                    form.cleaned_data["reason"],
                )
            self.message_user(
                request, f"{count} initiative(s) refusée(s).", messages.SUCCESS
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Refuser des initiatives",
            "opts": self.model._meta,
            "initiatives": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/surveys/reject.html", context)


@admin.register(KeyFigure)
class KeyFigureAdmin(HistoryAdmin):
    list_display = ["label", "display_value", "source", "period", "order"]
    list_editable = ["order"]
    search_fields = ["label", "explanation", "source"]
    prepopulated_fields = {"slug": ["label"]}
