from django.apps import AppConfig
from django.db.models.signals import post_save


def find_submission_again(sender, instance, created, raw=False, **kwargs):
    """An initiative restored from its history (same primary key) takes back
    the submission its deletion left behind."""
    from .models import Submission

    if created and not raw:
        Submission.objects.filter(
            initiative__isnull=True, initiative_number=instance.pk
        ).update(initiative=instance)


class SurveysConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "surveys"
    verbose_name = "Appel à idées"

    def ready(self):
        from initiatives.models import Initiative

        post_save.connect(
            find_submission_again,
            sender=Initiative,
            dispatch_uid="surveys.find_submission_again",
        )
