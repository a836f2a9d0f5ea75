package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Removing a container's directory while another process writes in it: a concurrent `ps` or
 * `state` runs runsc with --log in the container's directory, and runsc creates and removes its
 * runsc-PID.log there. `run -d --rm`'s removal hit exactly that as an internal error
 * (NoSuchFileException out of the walk) and left the sandbox listed.
 */
class FileTreesTest {
    @TempDir
    Path tmp;

    /** Creates and removes files in {@code dir} until stopped, as runsc's per-call logs do. */
    private static Thread churn(Path dir, AtomicBoolean stop) {
        Thread t = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                Path f = dir.resolve("runsc-" + i + ".log");
                try {
                    Files.writeString(f, "x");
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // the directory is gone: what the removal wanted
                }
            }
        });
        t.start();
        return t;
    }

    @Test
    void aContainerDirectoryIsRemovedWhileFilesComeAndGoInIt() throws Exception {
        Containers store = new Containers(tmp);
        for (int round = 0; round < 200; round++) {
            String id = "c" + round;
            Path d = store.dir(id);
            Files.createDirectories(d.resolve("bundle"));
            for (int i = 0; i < 20; i++) {
                Files.writeString(d.resolve("f" + i), "x");
                Files.writeString(d.resolve("bundle").resolve("g" + i), "y");
            }
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = churn(d, stop);
            try {
                assertThatCode(() -> store.remove(id)).doesNotThrowAnyException();
            } finally {
                stop.set(true);
                t.join();
            }
            store.remove(id); // what the churn may have recreated after the walk (never the directory)
            assertThat(d).doesNotExist();
        }
    }

    @Test
    void aFileCreatedAfterTheWalkPassedIsTakenByTheNextPass() throws Exception {
        Path d = tmp.resolve("tree");
        Files.createDirectories(d.resolve("a/b"));
        Files.writeString(d.resolve("a/b/f"), "x");
        assertThat(FileTrees.delete(d)).isTrue();
        assertThat(d).doesNotExist();
        assertThat(FileTrees.delete(d)).as("nothing to remove").isTrue();
    }

    @Test
    void symlinksAreRemovedNotFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "k");
        Path d = Files.createDirectories(tmp.resolve("tree"));
        Files.createSymbolicLink(d.resolve("link"), outside);
        assertThat(FileTrees.delete(d)).isTrue();
        assertThat(outside.resolve("keep")).exists();
    }
}
