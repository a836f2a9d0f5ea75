package dev.gvshim.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** errno capture, proven by provoking known errnos; each call through the one syscall() handle. */
class LinuxTest {
    @Test
    void errnoIsCapturedAndNamed() {
        assertThatThrownBy(() -> Linux.close(-1)).isInstanceOfSatisfying(SyscallException.class, e -> {
            assertThat(e.errno()).isEqualTo(Errno.EBADF);
            assertThat(e.errnoName()).isEqualTo("EBADF");
            assertThat(e.call()).isEqualTo("close");
            assertThat(e.step()).isNull();
            assertThat(e.getMessage()).isEqualTo("close(fd -1): EBADF (Bad file descriptor)");
        });
        assertThatThrownBy(() -> Linux.open("/no/such/file", Linux.O_RDONLY, 0)).isInstanceOfSatisfying(SyscallException.class,
                e -> assertThat(e.errnoName()).isEqualTo("ENOENT"));
        assertThatThrownBy(() -> Linux.waitpid(1, 0)).isInstanceOfSatisfying(SyscallException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ECHILD));
    }

    @Test
    void theStepIsRecordedOnceByTheInnermostLayer() {
        SyscallException e = new SyscallException("clone", Errno.EPERM, "CLONE_NEWUSER");
        assertThat(e.in(Step.CREATE_USERNS).in(Step.STDIO).step()).isEqualTo(Step.CREATE_USERNS);
        assertThat(e.getMessage()).isEqualTo("create the user namespace: clone(CLONE_NEWUSER): EPERM (Operation not permitted)");
    }

    @Test
    void errnoConstantsMatchGlibc() {
        assertThat(Errno.name(Errno.EPERM)).isEqualTo("EPERM");
        assertThat(Errno.name(Errno.ENOSPC)).isEqualTo("ENOSPC");
        assertThat(Errno.name(Errno.EINVAL)).isEqualTo("EINVAL");
        assertThat(Errno.name(Errno.EACCES)).isEqualTo("EACCES");
        assertThat(Errno.name(Errno.ENODATA)).isEqualTo("ENODATA");
        assertThat(Errno.name(Errno.EUSERS)).isEqualTo("EUSERS");
        assertThat(Errno.name(Errno.ENOSYS)).isEqualTo("ENOSYS");
        assertThat(Errno.describe(Errno.ENOSPC)).isEqualTo("No space left on device");
        assertThat(Errno.name(4711)).isEqualTo("errno 4711");
    }

    @Test
    void theJvmCannotCreateAUserNamespaceItself() {
        // user_namespaces(7): unshare(CLONE_NEWUSER) requires a single-threaded caller
        assertThatThrownBy(() -> Linux.unshare(Linux.CLONE_NEWUSER)).isInstanceOfSatisfying(SyscallException.class,
                e -> assertThat(e.errno()).isIn(Errno.EINVAL, Errno.EPERM));
    }

    @Test
    void syscallNumbersAreRight() throws Exception {
        assertThat(Linux.getpid()).isEqualTo((int) ProcessHandle.current().pid());
        String status = Files.readString(Path.of("/proc/self/status"));
        ProcStatus st = ProcStatus.parse(status);
        assertThat(Linux.getuid()).isEqualTo(st.uid());
        assertThat(Linux.geteuid()).isEqualTo(st.euid());
        assertThat(Linux.getgid()).isEqualTo(st.gid());
        assertThat(Linux.getegid()).isEqualTo(st.egid());
        assertThat(Linux.prctl(Linux.PR_GET_DUMPABLE, 0, 0, 0, 0)).isEqualTo(1);
        assertThat(Linux.prctl(Linux.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)).isEqualTo(st.noNewPrivs() ? 1 : 0);
    }

    @Test
    void pipesFilesFifosAndSockets(@TempDir Path dir) throws Exception {
        int[] p = Linux.pipe2(Linux.O_CLOEXEC);
        Linux.write(p[1], "hello".getBytes(StandardCharsets.UTF_8), "pipe");
        Linux.close(p[1]);
        assertThat(new String(Linux.readAll(p[0], 100), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(Linux.isatty(p[0])).isFalse();
        Linux.inheritable(p[0]);
        Linux.close(p[0]);

        Path fifo = dir.resolve("fifo");
        Linux.mkfifo(fifo.toString(), 0600);
        assertThat(Files.getAttribute(fifo, "unix:mode")).isEqualTo(0010600);
        Path f = Files.writeString(dir.resolve("f"), "old content");
        Linux.writeFile(f.toString(), "new");
        assertThat(Files.readString(f)).as("one write at offset 0, no truncation: as /proc maps want").isEqualTo("new content");
        Path sock = dir.resolve("s.sock");
        int s = Linux.listenUnix(sock.toString());
        assertThat(Files.getAttribute(sock, "unix:mode")).matches(m -> ((Integer) m & 0170000) == 0140000);
        Linux.close(s);
        assertThatThrownBy(() -> Linux.listenUnix(dir.resolve("x".repeat(120)).toString()))
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errnoName()).isEqualTo("ENAMETOOLONG"));
    }

    @Test
    void flockOnADirectoryExcludesAnotherOpenFileDescription(@TempDir Path dir) throws Exception {
        // flock(2) locks belong to the open file description: two open()s conflict even in one process
        int a = Linux.open(dir.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
        int b = Linux.open(dir.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC, 0);
        Linux.flock(a, 2 | 4);
        assertThatThrownBy(() -> Linux.flock(b, 2 | 4)).isInstanceOfSatisfying(SyscallException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.EAGAIN));
        Linux.close(a);
        Linux.flock(b, 2 | 4);
        Linux.close(b);
    }

    @Test
    void getxattrTellsAnAbsentAttributeFromAMissingFile(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("f"), "x");
        assertThat(Linux.getxattr(f.toString(), "user.nothing")).isEmpty();
        assertThatThrownBy(() -> Linux.getxattr(dir.resolve("missing").toString(), "user.x"))
                .isInstanceOfSatisfying(SyscallException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void signalMasksRoundTrip() throws Exception {
        long old = FfmClone.blockAsyncSignals();
        FfmClone.restoreSignals(old);
        assertThat(FfmClone.blockAsyncSignals()).isEqualTo(old);
        FfmClone.restoreSignals(old);
    }

    @Test
    void waitStatusDecodes() {
        assertThat(new Linux.WaitStatus(1, 3 << 8).shellStatus()).isEqualTo(3);
        assertThat(new Linux.WaitStatus(1, 9).signaled()).isTrue();
        assertThat(new Linux.WaitStatus(1, 9).shellStatus()).isEqualTo(137);
        assertThat(new Linux.WaitStatus(1, 0).exited()).isTrue();
        assertThat(new Linux.WaitStatus(1, 0x137f).signaled()).as("stopped").isFalse();
    }
}
