package org.lrdkt;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with aligned columns: left for text, right for numbers. */
public final class TextTable {

    private final String[] headers;
    private final boolean[] rightAligned;
    private final List<String[]> rows = new ArrayList<>();
    private final List<Integer> separatorsBefore = new ArrayList<>();

    /** Headers ending in ">" are right-aligned (the marker is not printed). */
    public TextTable(String... headers) {
        this.headers = new String[headers.length];
        this.rightAligned = new boolean[headers.length];
        for (int i = 0; i < headers.length; i++) {
            rightAligned[i] = headers[i].endsWith(">");
            this.headers[i] = rightAligned[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i];
        }
    }

    public TextTable row(Object... cells) {
        if (cells.length != headers.length) {
            throw new IllegalArgumentException(cells.length + " cells for " + headers.length + " columns");
        }
        String[] r = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            r[i] = cells[i] == null ? "" : cells[i].toString();
        }
        rows.add(r);
        return this;
    }

    /** A rule before the next row (e.g. above totals). */
    public TextTable separator() {
        separatorsBefore.add(rows.size());
        return this;
    }

    public String render() {
        int[] width = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            width[i] = headers[i].length();
            for (String[] r : rows) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, headers, width);
        rule(sb, width);
        for (int i = 0; i < rows.size(); i++) {
            if (separatorsBefore.contains(i)) {
                rule(sb, width);
            }
            line(sb, rows.get(i), width);
        }
        return sb.toString();
    }

    private void line(StringBuilder sb, String[] cells, int[] width) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            String pad = " ".repeat(width[i] - cells[i].length());
            l.append(i == 0 ? "" : "  ").append(rightAligned[i] ? pad + cells[i] : cells[i] + pad);
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    private static void rule(StringBuilder sb, int[] width) {
        int total = 0;
        for (int w : width) {
            total += w;
        }
        sb.append("-".repeat(total + 2 * (width.length - 1))).append('\n');
    }

    /** 1234567 → "1.23M"; keeps tables narrow. */
    public static String human(long n) {
        if (Math.abs(n) >= 1_000_000_000L) {
            return String.format("%.2fG", n / 1e9);
        }
        if (Math.abs(n) >= 1_000_000L) {
            return String.format("%.2fM", n / 1e6);
        }
        if (Math.abs(n) >= 10_000L) {
            return String.format("%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }

    /** A latency in milliseconds with three significant digits or so: 123.4, 12.34, 0.123. */
    public static String milliseconds(double ms) {
        return ms >= 100 ? String.format("%.1f", ms) : ms >= 1 ? String.format("%.2f", ms) : String.format("%.3f", ms);
    }

    /** A shape as "1x3x224x224"; an open (negative) dimension, or an unknown shape, as "?". */
    public static String dims(long[] dims) {
        if (dims == null) {
            return "?";
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : "x").append(dims[i] < 0 ? "?" : Long.toString(dims[i]));
        }
        return sb.toString();
    }
}
