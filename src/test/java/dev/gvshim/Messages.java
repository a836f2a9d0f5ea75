package dev.gvshim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The audit of every message the test suite makes gvshim print: no Java exception's text or
 * class name, no stack frame, no Java type name, no file name repeated as its own "reason"
 * (java.nio's getMessage() is just the path: "cannot write X: X"). Every funnel through which
 * the tests see gvshim's output calls {@link #check}: {@code CliTest.cli} (every unit CLI call,
 * and the --log file it was given), {@code Host.collect} (stdout and stderr of every process the
 * integration tests start, as root, as the test user, through docker and ctr), the runtime's
 * --log files and the stdio files of `create` in the runc verbs' tests (RuncFixture; in the Docker tests, the runtime's
 * --log reaches the test through docker's own error output). A test that reads gvshim's output
 * another way must call it too.
 */
public final class Messages {
    /** What must never reach a user, each with the reason it is there. */
    public static final List<Pattern> FORBIDDEN = List.of(
            // a qualified Java class name: java.nio.file.AccessDeniedException, com.fasterxml..., picocli.CommandLine$...
            Pattern.compile("\\b(?:java|javax|jdk|sun|com\\.fasterxml|picocli|dev\\.gvshim)\\.[a-z]+\\.[A-Za-z]"),
            // a simple class name: AccessDeniedException, NullPointerException, OutOfMemoryError
            Pattern.compile("\\b[A-Z][a-z][A-Za-z0-9]*(?:Exception|Error)\\b"),
            // a stack frame, or its chained cause
            Pattern.compile("(?m)^\\s*at [\\w$.]+\\([\\w$.]*(?::\\d+)?\\)"),
            Pattern.compile("(?m)^Caused by: "),
            // picocli's converters name the Java type: "'2s' is not a double"
            Pattern.compile("is not an? (?:int|long|short|byte|double|float|boolean|char|Integer|Long|Double|Float|Boolean)\\b"),
            // a file name as its own reason: "cannot write r2/config.json: r2/config.json"
            Pattern.compile("(?<![\\w./-])((?:/|\\.{1,2}/|\\w)[\\w.@+-]*(?:/[\\w.@+-]+)+): \\1(?=[ \\t]*$|[\\]);,])",
                    Pattern.MULTILINE),
            // an absent reason: "cannot read X: null"
            Pattern.compile("\\w: null(?:$|[\\s;,.)\\]])", Pattern.MULTILINE));

    private static final AtomicLong CHECKED = new AtomicLong();

    private Messages() {
    }

    /** Fails with the offending lines if {@code text} (output of {@code source}) holds a forbidden pattern. */
    public static void check(String source, String text) {
        if (text == null || text.isEmpty()) {
            return;
        }
        CHECKED.incrementAndGet();
        List<String> found = violations(text);
        if (!found.isEmpty()) {
            throw new AssertionError("Java's own words reached a user, from " + source + ":\n  " + String.join("\n  ", found)
                    + "\n--- whole output:\n" + text);
        }
    }

    /** {@link #check} for a file gvshim wrote (a --log file, redirected stdio), if it exists. */
    public static void checkFile(Path file) {
        if (file != null && Files.isRegularFile(file)) {
            try {
                check(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Each forbidden match, with the line it is on. */
    public static List<String> violations(String text) {
        List<String> found = new ArrayList<>();
        for (Pattern p : FORBIDDEN) {
            Matcher m = p.matcher(text);
            while (m.find()) {
                int start = text.lastIndexOf('\n', m.start()) + 1;
                int end = text.indexOf('\n', m.end());
                found.add("`" + m.group() + "` in: " + text.substring(start, end < 0 ? text.length() : end).strip());
            }
        }
        return found;
    }

    /** How many outputs were checked so far in this JVM (a test of the funnels asserts it grows). */
    public static long checked() {
        return CHECKED.get();
    }
}
