package dev.gvshim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/runc-compatibility.md's claim that each row is tested, made checkable: every row names
 * its tests in the last column, and each `Name` there is a test class of src/test/java (the
 * hooks rows' plain "HooksIT" belongs to the hooks work and is not checked here).
 */
class RuncCompatibilityDocTest {
    private static final Pattern CLASS = Pattern.compile("`([A-Z]\\w*(?:Test|IT))`");

    @Test
    void everyRowNamesTestClassesThatExist() throws IOException {
        Set<String> classes;
        try (Stream<Path> files = Files.walk(Path.of("src/test/java"))) {
            classes = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .map(n -> n.substring(0, n.length() - 5)).collect(Collectors.toSet());
        }
        List<String> rows = Files.readAllLines(Path.of("docs/runc-compatibility.md")).stream()
                .filter(l -> l.startsWith("| ") && !l.startsWith("| verb / feature")).toList();
        assertThat(rows).as("the table's rows").hasSizeGreaterThan(30);
        for (String row : rows) {
            String[] cells = row.substring(2, row.length() - 2).split(" \\| ");
            assertThat(cells).as(row).hasSize(4);
            String tests = cells[3];
            if (tests.equals("HooksIT")) {
                continue;
            }
            Matcher m = CLASS.matcher(tests);
            int named = 0;
            while (m.find()) {
                named++;
                assertThat(classes).as("a test class named by row " + cells[0]).contains(m.group(1));
            }
            assertThat(named).as("tests of row " + cells[0]).isPositive();
        }
    }
}
