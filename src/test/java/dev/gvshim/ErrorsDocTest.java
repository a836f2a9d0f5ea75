package dev.gvshim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/errors.md names every id a user can see: each id the code gives a failure or a doctor
 * finding (the first string of Failure.of, Failure.runtime, RuntimeFailures.of and its own of, a spec
 * refusal, a Finding), and each " [ID]" the native programs print, appears there as `ID`.
 */
class ErrorsDocTest {
    /** An id literal as the first argument of the calls that make failures and findings. */
    private static final Pattern JAVA_ID = Pattern.compile("(?:Failure\\.(?:of|runtime|usage)|new Failure|RuntimeFailures\\.of|(?<![\\w.])of"
            + "|refuse|Finding\\.(?:ok|warn|fail|of|untested))\\(\\s*\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{3,})\"");
    /** An id the C programs print at the end of a line: " [ID]". */
    private static final Pattern NATIVE_ID = Pattern.compile(" \\[([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\\]");

    @Test
    void everyIdInTheCodeIsExplained() throws IOException {
        Set<String> ids = new TreeSet<>();
        collect(Path.of("src/main/java"), ".java", JAVA_ID, ids);
        collect(Path.of("native"), ".c", NATIVE_ID, ids);
        assertThat(ids).as("ids found in the code (the scan itself works)").contains("USERNS_SECCOMP", "RUNSC_MISSING",
                "OUTPUT_LOST", "SPEC_PIDS_LIMIT", "CONTAINER_NOT_FOUND").hasSizeGreaterThan(80);
        String doc = Files.readString(Path.of("docs/errors.md"));
        assertThat(ids).as("ids missing from docs/errors.md").allSatisfy(id -> assertThat(doc).contains("`" + id + "`"));
    }

    private static void collect(Path root, String suffix, Pattern p, Set<String> into) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(x -> x.toString().endsWith(suffix)).toList()) {
                Matcher m = p.matcher(Files.readString(f));
                while (m.find()) {
                    into.add(m.group(1));
                }
            }
        }
    }
}
