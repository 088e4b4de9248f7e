"""The drafting stage: an outline (spec) and figures in, a checked report draft out.

spec.py            the outline: ReportSpec / SectionSpec, load_spec()
drafts.py          what drafting produces: SectionDraft, ReportDraft, Provenance
context.py         DraftContext (what a report's sections share), SectionRequest, retrieval
engines.py         Engine: OfflineEngine, ModelEngine (offline fallback per section); make_engine()
offline.py         the offline composition (no model)
section_prompt.py  the model engine's prompt for a section and the reading of its answer
prompts.py         the prompt files (prompts/*.j2) and their version
draft.py           draft_section(), draft_report(), drafted_sections()
review.py          a model's reading of a text's wording (check --review): verbatim quotes, warnings
"""
