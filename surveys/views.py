import logging

from django.conf import settings
from django.shortcuts import redirect, render

from core.logs import security_event
from core.storage import STORAGE_ERRORS

from . import stats, submissions
from .forms import SubmissionForm
from .models import KeyFigure, Survey

logger = logging.getLogger("portal.submissions")

IMAGE_NOT_STORED = (
    "L'image n'a pas pu être enregistrée pour l'instant, et rien n'a été envoyé : "
    "réessayez dans quelques minutes, ou envoyez votre proposition sans image."
)


def survey_results(request):
    survey = Survey.objects.prefetch_related("categories").first()
    context = {
        "survey": survey,
        "catalogued": stats.catalogued_totals(survey) if survey else None,
        "charts": stats.charts(),
        "chart_width": stats.CHART_WIDTH,
        "label_width": stats.LABEL_WIDTH,
    }
    return render(request, "surveys/survey_results.html", context)


def key_figure_list(request):
    context = {"key_figures": KeyFigure.objects.all()}
    return render(request, "surveys/keyfigure_list.html", context)


def submission_create(request):
    survey = Survey.objects.accepting_submissions().first()
    if survey is None:
        return render(request, "surveys/submission_closed.html")
    if request.method == "POST" and (refused := submissions.refused_by_limits(request)):
        security_event("rate_limited", request, logging.WARNING, limit="submissions")
        context = {
            "limit": settings.SUBMISSIONS_PER_HOUR,
            "attempts": settings.SUBMISSION_ATTEMPTS_PER_HOUR,
            "minutes": -(-refused.retry_after // 60),
        }
        response = render(
            request, "surveys/submission_limited.html", context, status=429
        )
        response["Retry-After"] = str(refused.retry_after)
        return response
    form = SubmissionForm(request.POST or None, request.FILES or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        try:
            submissions.create_submission(
                survey,
                form.save(),
                form.contact(),
                form.save_m2m,
                form_digest=form.digest(),
            )
        except STORAGE_ERRORS:
            logger.warning("submission image not stored", exc_info=True)
            form.add_error("image", IMAGE_NOT_STORED)
        else:
            submissions.count_submission(request)
            return redirect("surveys:submission_done")
    refusals = [
        error.code
        for error in form.errors.as_data().get("image", [])
        if error.code != "not_checked"
    ]
    if refusals:
        security_event("upload_refused", request, logging.WARNING, reasons=refusals)
    return render(
        request, "surveys/submission_form.html", {"form": form, "survey": survey}
    )


def submission_done(request):
    return render(request, "surveys/submission_done.html")
