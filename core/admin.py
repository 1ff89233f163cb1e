from django.contrib import admin, messages

from .mail import resend
from .models import Mail


@admin.register(Mail)
class MailAdmin(admin.ModelAdmin):
    """The outbox: every mail the portal sent or tries to send. A mail that
    failed for good is sent again with the "Renvoyer" action."""

    list_display = ["subject", "kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["subject", "recipients"]
    date_hierarchy = "created_at"
    actions = ["resend_failed"]
    readonly_fields = [
        "kind",
        "subject",
        "recipients",
        "reply_to",
        "body",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Renvoyer les courriels en échec sélectionnés",
        permissions=["change"],
    )
    def resend_failed(self, request, queryset):
        count = resend(queryset)
        self.message_user(
            request, f"{count} courriel(s) remis en file d'envoi.", messages.SUCCESS
        )
