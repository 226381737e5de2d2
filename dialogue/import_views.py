"""The editors' page for importing a report: upload or paste, preview, confirm."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dialogue import services
from dialogue.importer import MAX_BYTES, ReportError, decode, parse_report
from dialogue.management.commands.import_report import describe

SALT = "dialogue.report-import"
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview stays valid


class ReportForm(forms.Form):
    file = forms.FileField(required=False, label="Report file (plain text, UTF-8)")
    text = forms.CharField(
        required=False,
        label="…or paste the report",
        widget=forms.Textarea(attrs={"rows": 12}),
        max_length=MAX_BYTES,
        strip=False,  # errors name lines: leading blank lines count, as in an uploaded file
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), cleaned.get("text", "")
        if not upload and not text.strip():
            raise forms.ValidationError("Choose a file or paste the report's text.")
        try:
            if upload:
                if upload.size > MAX_BYTES:
                    decode(b"x" * (upload.size))  # the same message as the command's
                cleaned["report_text"] = decode(upload.read())
            else:
                cleaned["report_text"] = decode(text.encode("utf-8"))
            cleaned["report"] = parse_report(cleaned["report_text"])
        except ReportError as error:
            raise forms.ValidationError(str(error)) from None
        return cleaned


@login_required
@permission_required("dialogue.add_dialogue", raise_exception=True)
def report_import(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: the preview, with the text signed into the page so that
    the confirmation imports exactly what was previewed, without storing anything."""
    if request.method != "POST":
        return render(request, "dialogue/report_import.html", {"form": ReportForm()})
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "dialogue/report_import.html", {"form": form}, status=400)
    report = form.cleaned_data["report"]
    return render(
        request,
        "dialogue/report_import.html",
        {
            "form": form,
            "preview": describe(report),
            "report": report,
            "existing": services.existing_dialogue(report),
            "payload": signing.dumps(form.cleaned_data["report_text"], salt=SALT, compress=True),
        },
    )


@login_required
@permission_required("dialogue.add_dialogue", raise_exception=True)
def report_import_confirm(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("report_import")
    try:
        text = signing.loads(request.POST.get("payload", ""), salt=SALT, max_age=PREVIEW_MAX_AGE)
        result = services.report_import(
            report=parse_report(text), replace=request.POST.get("replace") == "on"
        )
    except signing.BadSignature:
        return render(
            request,
            "dialogue/report_import.html",
            {"form": ReportForm(), "error": "The preview expired or was altered: preview again."},
            status=400,
        )
    except ReportError as error:
        return render(
            request,
            "dialogue/report_import.html",
            {"form": ReportForm(), "error": str(error)},
            status=400,
        )
    if result.created:
        counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
        messages.success(request, f"Imported: {counts}. Suggested links await an editor.")
    else:
        messages.info(request, "This report was imported before; nothing was created.")
    return redirect("dialogue_detail", slug=result.dialogue.slug)
