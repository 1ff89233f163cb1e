from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME

from core.images import ImageContent, SafeImageField, sanitize_field

from .models import (
    LINKS,
    Category,
    Collectivity,
    Department,
    Initiative,
    Region,
    Theme,
    delete_file_on_commit,
)


class HistoryAdmin(SimpleHistoryAdmin):
    """Admin with the change history; a malformed object id is a 404."""

    def history_view(self, request, object_id, extra_context=None):
        try:
            self.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError) as error:
            raise Http404("Objet introuvable.") from error
        return super().history_view(request, object_id, extra_context)


class PreviewMixin:
    """Show an initiative as the public will see it, whatever its status."""

    def get_urls(self):
        opts = self.model._meta
        preview = path(
            "<int:pk>/apercu/",
            self.admin_site.admin_view(self.preview_view),
            name=f"{opts.app_label}_{opts.model_name}_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request, pk):
        initiative = get_object_or_404(Initiative.objects.for_detail(), pk=pk)
        if not self.has_view_permission(request, initiative):
            raise PermissionDenied
        context = {
            "initiative": initiative,
            "related": [],
            "is_preview": True,
            "change_url": reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}"
                "_change",
                args=[pk],
            ),
        }
        return TemplateResponse(request, "initiatives/initiative_detail.html", context)

    @admin.display(description="aperçu")
    def preview_link(self, initiative):
        opts = self.model._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_preview", args=[initiative.pk]
        )
        return format_html('<a href="{}">Aperçu</a>', url)


class InitiativeForm(forms.ModelForm):
    """The staff's form: an uploaded image goes through the same intake as the
    public's (checked, re-encoded, sized); a version restored from the history
    brings its themes and vigilance points back."""

    image = SafeImageField(label="image", required=False)

    def __init__(self, *args, instance=None, **kwargs):
        version = getattr(instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None)
        if version is not None and "initial" not in kwargs:
            kwargs["initial"] = linked_at(version)
        super().__init__(*args, instance=instance, **kwargs)

    def clean(self):
        cleaned = super().clean()
        sanitize_field(self)
        image = cleaned.get("image")
        if isinstance(image, ImageContent):
            self.instance.image_width, self.instance.image_height = (
                image.width,
                image.height,
            )
        elif image is False:  # "Effacer" ticked
            self.instance.image_width = self.instance.image_height = None
        return cleaned

    def save(self, commit=True):
        replaced = self.initial.get("image")
        if "image" in self.changed_data and replaced:
            delete_file_on_commit(replaced.storage, replaced.name)
        return super().save(commit)


def linked_at(version):
    """The themes and vigilance points a historical version held."""
    return {
        field: [
            getattr(row, Initiative._meta.get_field(field).m2m_reverse_field_name())
            for row in getattr(version, field).all()
        ]
        for field in LINKS
    }


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    list_select_related = ["region"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["region"]


@admin.register(Collectivity)
class CollectivityAdmin(HistoryAdmin):
    list_display = ["name", "kind", "code", "department", "population", "label_level"]
    list_filter = ["kind", "label_level", "department__region"]
    list_select_related = ["department"]
    search_fields = ["name", "code", "siren", "postcodes"]
    autocomplete_fields = ["department", "members"]
    prepopulated_fields = {"slug": ["name"]}
    show_full_result_count = False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    list_editable = ["order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    list_editable = ["order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class DepartmentFilter(admin.SimpleListFilter):
    title = "département"
    parameter_name = "department"

    def lookups(self, request, model_admin):
        return [(d.code, str(d)) for d in Department.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(collectivity__department__code=self.value())
        return queryset


@admin.register(Initiative)
class InitiativeAdmin(PreviewMixin, HistoryAdmin):
    form = InitiativeForm
    list_display = [
        "title",
        "collectivity",
        "category",
        "status",
        "is_featured",
        "updated_at",
        "preview_link",
    ]
    list_filter = ["status", "themes", DepartmentFilter, "category", "is_featured"]
    list_select_related = ["collectivity__department", "category"]
    search_fields = ["title", "summary", "collectivity__name", "collectivity__code"]
    autocomplete_fields = ["collectivity", "category", "themes", "survey"]
    filter_horizontal = ["vigilance_points"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["published_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "collectivity", "status", "is_featured"]}),
        ("Contenu", {"fields": ["summary", "description", "results", "website"]}),
        (
            "Classement",
            {"fields": ["category", "themes", "vigilance_points", "survey"]},
        ),
        ("Période", {"fields": ["period", "started_on", "ended_on", "outcome"]}),
        ("Image", {"fields": ["image", "image_alt"]}),
        (
            "Source et dates",
            {"fields": ["source_note", "published_at", "created_at", "updated_at"]},
        ),
    ]

    @admin.action(description="Publier les initiatives sélectionnées")
    def publish(self, request, queryset):
        count = queryset.publish()
        self.message_user(
            request, f"{count} initiative(s) publiée(s).", messages.SUCCESS
        )

    @admin.action(description="Retirer de la publication (remettre en examen)")
    def unpublish(self, request, queryset):
        count = queryset.unpublish()
        self.message_user(
            request,
            f"{count} initiative(s) retirée(s) de la publication.",
            messages.SUCCESS,
        )
