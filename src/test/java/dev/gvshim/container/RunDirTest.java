package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDirTest {
    @Test
    void eachRunGetsAUniquePrivateDirectoryNamedByItsId(@TempDir Path state) throws Exception {
        RunDir a = RunDir.create(state);
        RunDir b = RunDir.create(state);
        assertThat(a.id()).isNotEqualTo(b.id()).matches("gv[0-9a-f]+");
        assertThat(a.dir()).isEqualTo(state.resolve(a.id()));
        assertThat(Files.getPosixFilePermissions(a.dir())).hasSize(3);
        assertThat(Files.readString(a.dir().resolve(RunDir.OWNER_FILE))).startsWith(ProcessHandle.current().pid() + " ");
        a.delete();
        assertThat(a.dir()).doesNotExist();
    }

    @Test
    void garbageIsRunsWhoseOwnerIsGone(@TempDir Path state) throws Exception {
        RunDir live = RunDir.create(state);
        Path dead = Files.createDirectories(state.resolve("gvdead"));
        Files.writeString(dead.resolve(RunDir.OWNER_FILE), "999999999 12345\n");
        Files.writeString(dead.resolve("config.json"), "{}");
        Path reused = Files.createDirectories(state.resolve("gvreused"));
        Files.writeString(reused.resolve(RunDir.OWNER_FILE), ProcessHandle.current().pid() + " 1\n");
        Path young = Files.createDirectories(state.resolve("gvyoung"));
        Path old = Files.createDirectories(state.resolve("gvold"));
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minusSeconds(3600)));
        Path writing = Files.createDirectories(state.resolve("gvwriting")); // its owner file created, not yet written
        Files.writeString(writing.resolve(RunDir.OWNER_FILE), "");
        Path oldEmpty = Files.createDirectories(state.resolve("gvoldempty"));
        Files.writeString(oldEmpty.resolve(RunDir.OWNER_FILE), "");
        Files.setLastModifiedTime(oldEmpty, FileTime.from(Instant.now().minusSeconds(3600)));
        Path other = Files.createDirectories(state.resolve("not-a-run"));
        Path kept = Files.createDirectories(state.resolve("gvkept"));
        Files.writeString(kept.resolve(RunDir.OWNER_FILE), "999999999 12345\n");
        Files.writeString(kept.resolve(RunDir.KEEP_FILE), "");
        assertThat(RunDir.collectGarbage(state)).isEqualTo(4);
        assertThat(kept).as("--debug said it kept it: the next run must not delete it").exists();
        assertThat(live.dir()).exists();
        assertThat(young).as("probably being created right now").exists();
        assertThat(writing).as("an empty owner file: being written right now (16 API starts at once met it)").exists();
        assertThat(oldEmpty).as("an empty owner file an hour old").doesNotExist();
        assertThat(other).exists();
        assertThat(dead).doesNotExist();
        assertThat(reused).as("pid reused: start time differs").doesNotExist();
        assertThat(old).doesNotExist();
    }

    @Test
    void aRunDirectoryBeingCreatedIsNeverCollectedByAConcurrentRun(@TempDir Path state) throws Exception {
        // a warm pool boots several sandboxes at once in one process, each collecting garbage: an owner
        // file read half-written (empty) was taken for none of ours, and the new directory deleted
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread collector = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                RunDir.collectGarbage(state);
            }
        });
        java.util.List<String> lost = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 800 && lost.isEmpty(); i++) {
                RunDir r = RunDir.create(state);
                if (!Files.isDirectory(r.dir())) {
                    lost.add(r.id());
                }
                r.delete();
            }
        } finally {
            stop.set(true);
            collector.join();
        }
        assertThat(lost).as("run directories deleted by a concurrent collection while being created").isEmpty();
    }
}
