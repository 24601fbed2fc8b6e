"""What the lint reports: one `Finding` per problem, collected per document by a `Report`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One thing the lint found: an error fails the lint (and the local runner), a warning does not."""

    document: str
    where: str  # template, task and field: "template 'report', task 'x', field spec.templates[3].name"
    message: str
    is_error: bool = True

    def __str__(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.document}: {self.where}: {prefix}{self.message}"


@dataclass
class Report:
    """Collects the findings of one document, each placed by its field path (and template, task)."""

    label: str
    findings: list[Finding] = field(default_factory=list)

    def error(self, path: str, message: str, template: str | None = None, task: str | None = None,
              is_error: bool = True) -> None:
        place = [f"template {template!r}"] if template is not None else []
        place += [f"task {task!r}"] if task is not None else []
        self.findings.append(Finding(self.label, ", ".join([*place, f"field {path}"]), message, is_error))

    def warning(self, path: str, message: str, template: str | None = None) -> None:
        self.error(path, message, template, is_error=False)
