package dev.gvshim.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.gvshim.failure.GvshimException;
import dev.gvshim.linux.FileAttrs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The choice of the state directory, with a temporary directory standing in for /tmp. Another
 * user's entries need root (chown); those tests are skipped, with the reason, otherwise. What
 * only a caller without root meets (a directory it cannot write) is tested as the user gvshim-it
 * in RunIT (aRootTheUserCannotCreateIsOneLineWithOwnerAndMode,
 * aRuntimeDirTheUserCannotWriteIsOneLineWithOwnerAndMode).
 */
class StateDirTest {
    /** A uid that is not the caller's, for entries planted by "another user". */
    private static final int OTHER = 4242;

    static int uid() throws Exception {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    private static Path dir(Path p, String mode) throws Exception {
        Files.createDirectory(p);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    private static Path chown(Path p, int owner) throws Exception {
        Files.setAttribute(p, "unix:uid", owner, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        return p;
    }

    private static void needRoot() throws Exception {
        assumeTrue(uid() == 0, "needs root to create entries owned by another user");
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String mode(Path p) throws Exception {
        return FileAttrs.octal((Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    // ---- the default: XDG_RUNTIME_DIR, the predictable name, or a random name in /tmp --------

    @Test
    void theUsersRuntimeDirIsUsedWhenItIsPrivate(@TempDir Path tmp, @TempDir Path xdg) throws Exception {
        Path d = StateDir.prepareDefault(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid(), -1, tmp);
        assertThat(d).isEqualTo(xdg.resolve("gvshim"));
        assertThat(mode(d)).isEqualTo("0700");
        assertThat(names(tmp)).as("nothing in /tmp").isEmpty();
    }

    @Test
    void anUnusableRuntimeDirIsIgnoredForTmp(@TempDir Path tmp, @TempDir Path xdg) throws Exception {
        // su keeps root's XDG_RUNTIME_DIR; a 0755 one breaks the XDG Base Directory spec
        StateDir.Choice notOurs = StateDir.find(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid() + 1, -1, tmp);
        assertThat(notOurs.problem()).isNull();
        assertThat(notOurs.planned()).isEqualTo(tmp.resolve("gvshim-" + (uid() + 1)).toString());
        assertThat(notOurs.ignored()).singleElement().asString().startsWith("XDG_RUNTIME_DIR=" + xdg + " (" + xdg + " (owner ")
                .endsWith("not yours (uid " + (uid() + 1) + "))");
        Files.setPosixFilePermissions(xdg, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path d = StateDir.prepareDefault(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid(), -1, tmp);
        assertThat(d.getParent()).isEqualTo(tmp);
        assertThat(xdg.resolve("gvshim")).doesNotExist();
        assertThat(StateDir.find(Map.of("XDG_RUNTIME_DIR", xdg.toString()), uid(), -1, tmp).ignored()).singleElement().asString()
                .contains("mode 0755").contains("not 0700 as the XDG Base Directory spec requires");
        assertThat(StateDir.find(Map.of("XDG_RUNTIME_DIR", "relative"), uid(), -1, tmp).ignored())
                .containsExactly("XDG_RUNTIME_DIR=relative (not an absolute path)");
    }

    @Test
    void theFirstCallTakesTheFreeNameAndLaterCallsFindIt(@TempDir Path tmp) throws Exception {
        StateDir.Choice before = StateDir.find(Map.of(), uid(), -1, tmp);
        assertThat(before.dir()).isNull();
        assertThat(before.planned()).isEqualTo(tmp.resolve("gvshim-" + uid()).toString());
        Path first = StateDir.prepareDefault(Map.of(), uid(), -1, tmp);
        assertThat(first).isEqualTo(tmp.resolve("gvshim-" + uid()));
        assertThat(mode(first)).isEqualTo("0700");
        assertThat(StateDir.prepareDefault(Map.of(), uid(), -1, tmp)).isEqualTo(first);
        assertThat(StateDir.find(Map.of(), uid(), -1, tmp).dir()).isEqualTo(first);
        assertThat(names(tmp)).hasSize(1);
    }

    @Test
    void aTakenNameGivesAnUnpredictableOneWhichIsKeptAfterwards(@TempDir Path tmp, @TempDir Path target) throws Exception {
        int u = uid();
        Path taken = Files.createSymbolicLink(tmp.resolve("gvshim-" + u), target);
        assertThat(StateDir.find(Map.of(), u, -1, tmp).planned()).isEqualTo(tmp.resolve("gvshim-" + u + ".XXXXXXXXXXXX").toString());
        Path random = StateDir.prepareDefault(Map.of(), u, -1, tmp);
        assertThat(random.getFileName().toString()).matches("gvshim-" + u + "\\.[a-z0-9]{12}");
        assertThat(mode(random)).isEqualTo("0700");
        assertThat(StateDir.prepareDefault(Map.of(), u, -1, tmp)).as("found again").isEqualTo(random);
        // root removes the planted name: containers in the random directory must still be found
        Files.delete(taken);
        assertThat(StateDir.prepareDefault(Map.of(), u, -1, tmp)).isEqualTo(random);
        assertThat(taken).doesNotExist();
        assertThat(StateDir.randomSuffix()).isNotEqualTo(StateDir.randomSuffix()).matches("[a-z0-9]{12}");
    }

    @Test
    void theOldNameIsKeptWhenItIsTheCallersOwn(@TempDir Path tmp) throws Exception {
        // containers started before an upgrade are found again
        Path legacy = dir(tmp.resolve("gvshim-" + uid()), "rwx------");
        dir(tmp.resolve("gvshim-" + uid() + ".aaaaaaaaaaaa"), "rwx------");
        assertThat(StateDir.prepareDefault(Map.of(), uid(), -1, tmp)).isEqualTo(legacy);
        Path outer = dir(tmp.resolve("gvshim-0-outer1004"), "rwx------");
        assumeTrue(uid() == 0, "the -outer name is for uid 0 inside a user namespace");
        assertThat(StateDir.prepareDefault(Map.of(), 0, 1004, tmp)).isEqualTo(outer);
    }

    @Test
    void amongSeveralTheSmallestNameWinsAndOtherUidsNamesAreNotConfused(@TempDir Path tmp) throws Exception {
        int u = uid();
        dir(tmp.resolve("gvshim-" + u + ".m00000000000"), "rwx------");
        Path small = dir(tmp.resolve("gvshim-" + u + ".b00000000000"), "rwx------");
        dir(tmp.resolve("gvshim-" + u + "0.a00000000000"), "rwx------"); // uid U0, not U
        dir(tmp.resolve("gvshim-" + u + "-outer7.a00000000000"), "rwx------");
        assertThat(StateDir.prepareDefault(Map.of(), u, -1, tmp)).isEqualTo(small);
    }

    @Test
    void symlinksAndFilesOfTheNamesAreSkippedAndNeverFollowed(@TempDir Path tmp, @TempDir Path target) throws Exception {
        int u = uid();
        Files.createSymbolicLink(tmp.resolve("gvshim-" + u), target);
        Files.createSymbolicLink(tmp.resolve("gvshim-" + u + ".000000000000"), target);
        Files.writeString(tmp.resolve("gvshim-" + u + ".000000000001"), "");
        StateDir.Choice c = StateDir.find(Map.of(), u, -1, tmp);
        assertThat(c.problem()).isNull();
        assertThat(c.ignored()).hasSize(3).anySatisfy(s -> assertThat(s).startsWith(tmp.resolve("gvshim-" + u) + " (a symbolic link of"))
                .anySatisfy(s -> assertThat(s).endsWith(".000000000001 (not a directory)"));
        Path d = StateDir.prepareDefault(Map.of(), u, -1, tmp);
        assertThat(d.getFileName().toString()).matches("gvshim-" + u + "\\.[a-z0-9]{12}").isNotEqualTo("gvshim-" + u + ".000000000000");
        assertThat(Files.isSymbolicLink(d)).isFalse();
        assertThat(names(target)).as("nothing written where the symlinks point").isEmpty();
        assertThat(StateDir.prepareDefault(Map.of(), u, -1, tmp)).as("found again").isEqualTo(d);
    }

    @Test
    void anotherUsersDirectoriesOfTheNamesAreSkippedAndNeverWritten(@TempDir Path tmp) throws Exception {
        needRoot();
        int u = 4343; // the caller: root creates its directories for it below
        List<Path> planted = new ArrayList<>();
        for (String[] p : List.of(new String[] {"gvshim-" + u, "rwx------"}, new String[] {"gvshim-" + u + ".000000000000", "rwxrwxrwx"},
                new String[] {"gvshim-" + u + ".000000000001", "sticky"})) {
            Path d = chown(dir(tmp.resolve(p[0]), p[1].equals("sticky") ? "rwxrwxrwx" : p[1]), OTHER);
            if (p[1].equals("sticky")) {
                Files.setAttribute(d, "unix:mode", 01777);
            }
            Files.setLastModifiedTime(d, FileTime.fromMillis(1_000_000));
            planted.add(d);
        }
        StateDir.Choice c = StateDir.find(Map.of(), u, -1, tmp);
        assertThat(c.problem()).isNull();
        assertThat(c.dir()).isNull();
        assertThat(c.ignored()).containsExactlyInAnyOrder(planted.get(0) + " (owner uid 4242, mode 0700)",
                planted.get(1) + " (owner uid 4242, mode 0777)", planted.get(2) + " (owner uid 4242, mode 1777)");
        // the caller's own one, made as it would be (by root here, for uid 4343)
        Path mine = chown(dir(tmp.resolve("gvshim-" + u + ".zzzzzzzzzzzz"), "rwx------"), u);
        assertThat(StateDir.prepareDefault(Map.of(), u, -1, tmp)).isEqualTo(mine);
        for (Path p : planted) {
            assertThat(names(p)).isEmpty();
            assertThat(Files.getLastModifiedTime(p).toMillis()).isEqualTo(1_000_000);
        }
    }

    @Test
    void theCallersOwnDirectoryOpenToOthersIsRefusedWithTheChmod(@TempDir Path tmp) throws Exception {
        Path legacy = dir(tmp.resolve("gvshim-" + uid()), "rwxrwxrwx");
        assertThatThrownBy(() -> StateDir.prepareDefault(Map.of(), uid(), -1, tmp)).isInstanceOfSatisfying(
                GvshimException.class, e -> {
                    assertThat(e.failure().why()).isEqualTo("its mode is 0777, open to other users");
                    assertThat(e.failure().fix()).isEqualTo("chmod 700 " + legacy);
                });
        assertThat(StateDir.find(Map.of(), uid(), -1, tmp).problem()).isNotNull();
    }

    @Test
    void concurrentFirstCallsEndUpInOneDirectory(@TempDir Path tmp, @TempDir Path target) throws Exception {
        assertThat(concurrentFirstCalls(tmp)).isEqualTo(tmp.resolve("gvshim-" + uid()));
        assertThat(names(tmp)).hasSize(1);
        // with the name taken, the random names: /tmp's flock orders the calls
        Path tmp2 = Files.createDirectory(tmp.resolve("t2"));
        Files.createSymbolicLink(tmp2.resolve("gvshim-" + uid()), target);
        assertThat(concurrentFirstCalls(tmp2).getFileName().toString()).matches("gvshim-" + uid() + "\\.[a-z0-9]{12}");
        assertThat(names(tmp2)).hasSize(2);
    }

    private static Path concurrentFirstCalls(Path tmp) throws Exception {
        Set<Path> chosen = ConcurrentHashMap.newKeySet();
        List<Throwable> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        int u = uid();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    chosen.add(StateDir.prepareDefault(Map.of(), u, -1, tmp));
                } catch (Throwable t) {
                    failed.add(t);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failed).isEmpty();
        assertThat(chosen).hasSize(1);
        return chosen.iterator().next();
    }

    @Test
    void withoutTheLockTheSmallestWinsAndTheLoserRemovesItsOwn(@TempDir Path tmp) throws Exception {
        String base = StateDir.baseName(uid(), -1);
        Path mine = dir(tmp.resolve(base + ".m00000000000"), "rwx------");
        assertThat(StateDir.converge(tmp, base, uid(), mine)).as("alone").isEqualTo(mine);
        Path theirs = dir(tmp.resolve(base + ".a00000000000"), "rwx------");
        assertThat(StateDir.converge(tmp, base, uid(), mine)).isEqualTo(theirs);
        assertThat(mine).doesNotExist();
        assertThat(StateDir.converge(tmp, base, uid(), theirs)).as("the winner keeps its own").isEqualTo(theirs);
    }

    @Test
    void aTmpOthersCanRenameInIsRefused(@TempDir Path parent) throws Exception {
        Path tmp = dir(parent.resolve("tmp"), "rwxrwxrwx"); // no sticky bit
        assertThatThrownBy(() -> StateDir.prepareDefault(Map.of(), uid(), -1, tmp)).isInstanceOfSatisfying(
                GvshimException.class, e -> {
                    assertThat(e.failure().what()).isEqualTo("cannot keep the state directory in " + tmp);
                    assertThat(e.failure().why()).startsWith(tmp + " (owner ").contains("mode 0777) is writable by group and other users"
                            + " and not sticky");
                    assertThat(e.failure().fix()).contains("chmod 1777 " + tmp);
                });
        Files.setAttribute(tmp, "unix:mode", 01777);
        assertThat(StateDir.prepareDefault(Map.of(), uid(), -1, tmp).getParent()).isEqualTo(tmp);
    }

    @Test
    void createsIt0700AndAcceptsItAgain(@TempDir Path parent) throws Exception {
        Path d = RootChecks.prepare(parent.resolve("s"), uid(), false);
        assertThat(Files.getPosixFilePermissions(d)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(RootChecks.prepare(d, uid(), false)).isEqualTo(d);
    }

    @Test
    void refusesSymlinksOpenModesAndOtherOwners(@TempDir Path parent) throws Exception {
        Path target = Files.createDirectory(parent.resolve("target"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path link = Files.createSymbolicLink(parent.resolve("link"), target);
        assertThatThrownBy(() -> RootChecks.prepare(link, uid(), false)).isInstanceOf(GvshimException.class)
                .hasMessageContaining("symbolic link");
        Path open = Files.createDirectory(parent.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> RootChecks.prepare(open, uid(), false)).isInstanceOfSatisfying(GvshimException.class,
                e -> assertThat(e.failure().fix()).isEqualTo("chmod 700 " + open));
        Path file = Files.writeString(parent.resolve("file"), "");
        assertThatThrownBy(() -> RootChecks.prepare(file, uid(), false)).hasMessageContaining("not a directory");
        assertThatThrownBy(() -> RootChecks.prepare(parent.resolve("no/such/parent"), uid(), false))
                .isInstanceOfSatisfying(GvshimException.class, e -> {
                    assertThat(e.failure().what()).isEqualTo("cannot create the state directory " + parent.resolve("no/such/parent"));
                    assertThat(e.failure().why()).isEqualTo("its parent directory " + parent.resolve("no/such") + " does not exist");
                });
        if (uid() == 0) { // else the temporary directory above is "another user's" already
            assertThatThrownBy(() -> RootChecks.prepare(target, uid() + 1, false)).isInstanceOf(GvshimException.class)
                    .hasMessageContaining("owned by root (uid 0), not by you (uid 1); mode 0700");
        }
    }

    @Test
    void anExplicitRootIsNeverToBeChangedOnlyReplaced(@TempDir Path parent) throws Exception {
        Path open = Files.createDirectory(parent.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> RootChecks.prepare(open, uid(), true)).isInstanceOfSatisfying(GvshimException.class,
                e -> {
                    assertThat(e.failure().why()).contains("open to other users");
                    assertThat(e.failure().fix()).startsWith("pass a --root only you can use").doesNotContain("chmod", "rm ");
                });
        assertThatThrownBy(() -> RootChecks.prepare(open, uid() + 1, true)).isInstanceOfSatisfying(
                GvshimException.class, e -> assertThat(e.failure().fix()).doesNotContain("rm -rf"));
    }

    @Test
    void aDirectoryPlantedByAnotherUserIsRefused(@TempDir Path parent) throws Exception {
        needRoot();
        Path planted = chown(Files.createDirectory(parent.resolve("gvshim-0")), 12345);
        assertThatThrownBy(() -> RootChecks.prepare(planted, 0, false)).hasMessageContaining("owned by uid 12345, not by you");
    }

    @Test
    void aRootUnderAnotherUsersDirectoryIsRefusedAndNothingIsCreated(@TempDir Path parent) throws Exception {
        needRoot();
        Path attacker = chown(dir(parent.resolve("attacker"), "rwxrwxrwx"), OTHER);
        Path root = attacker.resolve("new");
        assertThatThrownBy(() -> RootChecks.prepare(root, 4343, true)).isInstanceOfSatisfying(GvshimException.class, e -> {
            assertThat(e.failure().what()).isEqualTo("cannot use the state directory " + root);
            assertThat(e.failure().why()).isEqualTo(attacker + " (owner uid 4242, mode 0777) belongs to another user, who can rename or"
                    + " replace what is in it");
            assertThat(e.failure().fix()).contains("--root");
        });
        assertThat(root).doesNotExist();
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(root, 4343)).isInstanceOf(GvshimException.class);
        // even sticky or closed: its owner can still rename what is in it
        Files.setAttribute(attacker, "unix:mode", 01755);
        assertThatThrownBy(() -> RootChecks.prepare(root, 4343, true)).hasMessageContaining("belongs to another user");
        // a symbolic link on the way that another user owns can be pointed elsewhere
        Path real = dir(parent.resolve("real"), "rwxr-xr-x");
        Path link = Files.createSymbolicLink(parent.resolve("link"), real);
        chown(link, OTHER);
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(link.resolve("state"), 4343))
                .hasMessageContaining(link + " is a symbolic link of uid 4242, who can point it elsewhere");
    }

    @Test
    void aParentOthersCanWriteIsRefusedUnlessSticky(@TempDir Path parent) throws Exception {
        Path shared = dir(parent.resolve("shared"), "rwxrwxrwx"); // the caller's (or root's), yet anyone may rename in it
        String owner = FileAttrs.owner(shared, uid());
        assertThatThrownBy(() -> RootChecks.prepare(shared.resolve("s"), uid(), true)).isInstanceOfSatisfying(
                GvshimException.class, e -> {
                    assertThat(e.failure().why()).isEqualTo(shared + " (owner " + owner + ", mode 0777) is writable"
                            + " by group and other users and not sticky, so they can rename or replace what is in it");
                    assertThat(e.failure().fix()).startsWith("pass a --root whose parent directories");
                });
        assertThat(shared.resolve("s")).doesNotExist();
        Files.setAttribute(shared, "unix:mode", 01777); // like /tmp
        assertThat(RootChecks.prepare(shared.resolve("s"), uid(), true)).isEqualTo(shared.resolve("s"));
        Path group = dir(parent.resolve("group"), "rwxrwxr-x");
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(group.resolve("r"), uid())).hasMessageContaining("writable by its group");
    }

    @Test
    void aRuntimeRootMayBeSearchableButNotWritableByOthers(@TempDir Path parent) throws Exception {
        // runc makes its --root 0711; /tmp itself (sticky) is no --root: others could create entries in it
        RootChecks.checkRuntimeRoot(dir(parent.resolve("runc"), "rwx--x--x"), uid());
        RootChecks.checkRuntimeRoot(parent.resolve("not-yet"), uid());
        Path sticky = dir(parent.resolve("sticky"), "rwxrwxrwx");
        Files.setAttribute(sticky, "unix:mode", 01777);
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(sticky, uid())).hasMessageContaining(
                "mode 1777) is writable by group and other users, who could tamper with the containers' state");
        RootChecks.checkRuntimeRoot(sticky.resolve("below"), uid());
        Path file = Files.writeString(parent.resolve("file"), "");
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(file.resolve("x"), uid())).hasMessageContaining(file + " is not a directory");
    }

    @Test
    void aRuntimeRootIsMadeOneJudgedDirectoryAtATime(@TempDir Path parent) throws Exception {
        Path root = parent.resolve("a/b/c");
        RootChecks.makeRuntimeRoot(root, uid());
        for (Path p : List.of(parent.resolve("a"), parent.resolve("a/b"), root)) {
            assertThat(mode(p)).as("as runc, less the umask").isIn("0711", "0701", "0700");
        }
        RootChecks.makeRuntimeRoot(root, uid()); // nothing left to make
        // Docker's /var/run -> /run: the link's target is made
        Path var = dir(parent.resolve("var"), "rwxr-xr-x");
        Files.createSymbolicLink(var.resolve("run"), Path.of("../run"));
        RootChecks.makeRuntimeRoot(var.resolve("run/docker/moby"), uid());
        assertThat(parent.resolve("run/docker/moby")).isDirectory();
        // a directory of another user in the way: refused, nothing made in it
        if (uid() == 0) {
            Path theirs = chown(dir(parent.resolve("theirs"), "rwxrwxrwx"), OTHER);
            assertThatThrownBy(() -> RootChecks.makeRuntimeRoot(theirs.resolve("x/y"), 4343)).hasMessageContaining(
                    theirs + " (owner uid 4242, mode 0777) belongs to another user");
            assertThat(names(theirs)).isEmpty();
        }
    }

    @Test
    void symlinkedParentsAreFollowedAndCheckedAsTheKernelResolvesThem(@TempDir Path parent) throws Exception {
        // Docker's --root /var/run/docker/runtime-runc/moby, where /var/run -> /run
        Path run = dir(parent.resolve("run"), "rwxr-xr-x");
        Path var = dir(parent.resolve("var"), "rwxr-xr-x");
        Files.createSymbolicLink(var.resolve("run"), Path.of("../run"));
        RootChecks.checkRuntimeRoot(var.resolve("run/docker/runtime-runc/moby"), uid());
        RootChecks.checkRuntimeRoot(parent.resolve("var/./run/../run/x"), uid());
        // the link's target is checked too
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(var.resolve("run/x"), uid())).hasMessageContaining(run + " (owner");
        Path loop = Files.createSymbolicLink(parent.resolve("loop"), parent.resolve("loop"));
        assertThatThrownBy(() -> RootChecks.checkRuntimeRoot(loop.resolve("x"), uid())).hasMessageContaining("too many levels");
        if (Files.isSymbolicLink(Path.of("/var/run"))) {
            RootChecks.checkRuntimeRoot(Path.of("/var/run/gvshim-test-does-not-exist/moby"), uid());
        }
    }

    @Test
    void theOverflowUidIsReadWhole() throws Exception {
        // Files.readString got "6" of "65534": sysctl files answer a read past offset 0 with EOF
        try (var r = Files.newBufferedReader(Path.of("/proc/sys/kernel/overflowuid"))) {
            assertThat(OwnerTrust.overflowUid()).isEqualTo(Integer.parseInt(r.readLine().strip()));
        }
    }
}
