/**
 * {@code tracker top}: a terminal view of a running tracker. It polls the tracker's HTTP API ({@code /flows} for the
 * connections, {@code /metrics} for the health line, {@code /flows/{uid}} for one record) and draws a table fitted to
 * the terminal, redrawn in place with JLine's {@code Display}; {@code --once} prints the table once as plain text.
 *
 * <pre>
 *   TopCommand ── options, --once ──► TrackerClient (HTTP) ──► FlowRow, Health
 *        │                                                        │
 *        └── TerminalTop (keys, timer) ──► TopScreen (state) ──► FlowTable (columns fitted to the width)
 * </pre>
 *
 * Everything runs on the command's thread; the terminal's resize and interrupt signals only set flags it reads.
 */
package dev.flowtracker.ingest.top;
