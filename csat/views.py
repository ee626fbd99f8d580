"""The public survey page /help/survey/<token>/ (DESIGN §9). GET records nothing (link
scanners open links); only a POST of the form records or changes the answer."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from support_desk.errors import ApplicationError

from . import services
from .portal.forms import SurveyForm
from .portal.headers import private_page, token_in_url


@require_http_methods(["GET", "POST"])
@private_page
@token_in_url
def survey(request, token: str):
    state = services.survey_by_token(token)
    if state is None:
        return render(request, "csat/survey_unknown.html", status=404)
    survey_ = state.survey
    initial = {"rating": survey_.rating, "comment": survey_.comment} if survey_.rating else None
    form = SurveyForm(initial=initial)
    thanks = False
    status = 200
    if request.method == "POST" and state.open:
        form = SurveyForm(request.POST)
        if form.is_valid():
            try:
                survey_ = services.survey_respond(
                    raw_token=token,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
                thanks = True
            except ApplicationError as error:
                form.add_error(None, error.message)
                status = 409
        else:
            status = 400
    elif request.method == "POST":
        status = 409
    return render(
        request,
        "csat/survey.html",
        {
            "survey": survey_,
            "subject": survey_.ticket.subject,
            "ticket_id": survey_.ticket_id,
            "form": form,
            "open": state.open,
            "reason": state.reason,
            "thanks": thanks,
        },
        status=status,
    )
