"""The report's styles: inline CSS, system fonts only (nothing is fetched).

A module of its own so that the process converting a report to HTML needs no more than
these strings (importing `workbench.report.sections` for them pulled pandas into it).
"""

# The `.wb` fragments that `workbench.report.sections` writes.
CSS = """
.wb { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2933; line-height: 1.45;
      font-size: 14px; max-width: 980px; }
.wb h1 { font-size: 26px; margin: 0 0 4px; font-weight: 600; color: #1f4e79; }
.wb h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #1f4e79;
         font-weight: 600; color: #1f4e79; }
.wb h3 { font-size: 15px; margin: 16px 0 6px; font-weight: 600; }
.wb .wb-sub { color: #52606d; margin-bottom: 12px; }
.wb .wb-kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0 14px; }
.wb .wb-kpi { border: 1px solid #d9e2ec; border-radius: 6px; padding: 8px 12px; min-width: 130px; background: #f8fafc; }
.wb .wb-kpi .v { font-size: 20px; font-weight: 600; color: #102a43; }
.wb .wb-kpi .l { font-size: 11.5px; color: #52606d; text-transform: uppercase; letter-spacing: .03em; }
.wb table.wb-t { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
.wb table.wb-t th { text-align: left; background: #eef2f7; color: #243b53; font-weight: 600; padding: 5px 9px;
                    border-bottom: 1px solid #bcccdc; }
.wb table.wb-t td { padding: 4px 9px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
.wb table.wb-t td.n, .wb table.wb-t th.n { text-align: right; font-variant-numeric: tabular-nums; }
.wb .wb-badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 13px; }
.wb .ok { background: #e3f9e5; color: #1f6f3a; } .wb .warn { background: #fff3c4; color: #8d6708; }
.wb .bad { background: #ffe3e3; color: #a61b1b; } .wb .na { background: #eef2f7; color: #52606d; }
.wb .wb-note { color: #52606d; font-size: 12.5px; }
.wb .wb-mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.wb ul { margin: 4px 0 10px 18px; padding: 0; }
"""

# The page around them: nbconvert's lab template, without prompts, centred, print-friendly.
PAGE_CSS = """
body.jp-Notebook { background: #fff; }
main { max-width: 1000px; margin: 28px auto 60px; padding: 0 20px; }
.jp-Cell { padding: 0 !important; }
.jp-OutputArea-output { padding: 0 !important; }
.jp-OutputArea-output img { max-width: 100%; height: auto; margin: 6px 0 14px; }
.jp-OutputPrompt, .jp-InputPrompt { display: none !important; }
.jp-RenderedHTMLCommon table { margin-left: 0 !important; margin-right: 0 !important; }
.jp-RenderedHTMLCommon .wb h2 { border-bottom: 2px solid #1f4e79; }
@media print { main { margin: 0; max-width: none; } .wb h2 { break-after: avoid; } img { break-inside: avoid; } }
"""
