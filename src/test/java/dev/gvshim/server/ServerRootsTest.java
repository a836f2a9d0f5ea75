package dev.gvshim.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The --roots a server's calls created containers in, for its successor's start (notes/server-design.md 9). */
class ServerRootsTest {
    @TempDir
    Path tmp;

    @Test
    void eachRootIsListedOnceAndRootsThatAreGoneAreDroppedAtTheNextStart() throws Exception {
        Path file = tmp.resolve("roots");
        Path a = Files.createDirectories(tmp.resolve("a"));
        Path b = Files.createDirectories(tmp.resolve("b"));
        ServerRoots first = new ServerRoots(file, new ServerLog(tmp.resolve("server.log"), 1));
        assertThat(first.load()).isEmpty();
        first.creatingIn(a);
        first.creatingIn(b.resolve("../b"));
        first.creatingIn(a);
        first.creatingIn(Path.of("/x\ny")); // not a line: never written
        assertThat(Files.readAllLines(file)).containsExactly(a.toString(), b.toString());

        Files.delete(b);
        ServerRoots next = new ServerRoots(file, new ServerLog(tmp.resolve("server.log"), 2));
        assertThat(next.load()).containsExactly(a);
        assertThat(Files.readAllLines(file)).as("rewritten without the root that is gone").containsExactly(a.toString());
        next.creatingIn(a);
        assertThat(Files.readAllLines(file)).containsExactly(a.toString());
        next.creatingIn(b);
        assertThat(Files.readAllLines(file)).containsExactly(a.toString(), b.toString());
        assertThat(List.of(Files.readString(file))).doesNotContain("");
    }
}
