from django.contrib import admin

from .models import VigilancePoint


@admin.register(VigilancePoint)
class VigilancePointAdmin(admin.ModelAdmin):
    list_display = ["title", "order"]
    list_editable = ["order"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
