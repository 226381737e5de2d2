from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dialogue import services
from dialogue.importer import ParsedReport, ReportError, decode, parse_report


def describe(report: ParsedReport) -> list[str]:
    """What an import would create, for --dry-run and the editor's preview."""
    lines = [
        f"Report: {report.title} ({report.published:%B %Y}), by {report.author}",
        f"Dialogue: {report.dialogue_title}, {report.date:%d %B %Y}, convened by "
        f"{report.convener}{f', {report.series}' if report.series else ''}",
        f"{len(report.questions)} central questions, {len(report.recommendations)} "
        f"recommendations, {len(report.passages)} summary passages, "
        f"{len(report.participants)} participants, {len(report.observers)} observers, "
        f"{len(report.supporters)} supporters",
    ]
    for number, text in enumerate(report.recommendations, start=1):
        first_line = text.splitlines()[0]
        lines.append(f"  {number}. {first_line[:100]}{'…' if len(first_line) > 100 else ''}")
    return lines


class Command(BaseCommand):
    help = (
        "Import a dialogue report in the plain-text form of "
        "fixtures/reports/us-rok-strategic-dialogue-2020.txt. One transaction: on any error "
        "nothing is written. A report already imported (same dialogue title and date) is left "
        "as it is unless --replace."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be created; write nothing."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace a dialogue imported before, if none of its recommendations is tracked.",
        )

    def handle(self, *args, file: Path, dry_run: bool, replace: bool, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: {error.strerror}") from error
        try:
            report = parse_report(decode(data))
        except ReportError as error:
            raise CommandError(f"{file}: {error}") from error
        existing = services.existing_dialogue(report)
        if dry_run:
            self.stdout.write("Dry run: nothing is written.")
            for line in describe(report):
                self.stdout.write(line)
            if existing and not replace:
                self.stdout.write(
                    f"Already imported as /dialogues/{existing.slug}/: nothing to do."
                )
            return
        try:
            result = services.report_import(report=report, replace=replace)
        except ReportError as error:
            raise CommandError(f"{file}: {error}") from error
        if not result.created:
            self.stdout.write(
                f"Already imported as /dialogues/{result.dialogue.slug}/: nothing created "
                "(use --replace to import it again)."
            )
            return
        counts = ", ".join(f"{n} {name}" for name, n in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Imported /dialogues/{result.dialogue.slug}/: {counts}.")
        )
        self.stdout.write(
            f"{result.reused['new_people']} new people, {result.reused['reused_people']} known "
            f"people reused, {result.reused['new_organizations']} new organizations."
        )
