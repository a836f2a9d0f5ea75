package dev.gvshim.linux;

/**
 * System call numbers for the two architectures gvshim supports, from
 * {@code asm/unistd_64.h} (x86_64) and {@code asm-generic/unistd.h} (aarch64).
 * SyscallNumbersTest checks them against the running kernel.
 */
final class SyscallNumbers {
    static final boolean AARCH64 = "aarch64".equals(System.getProperty("os.arch"));

    static final int READ = AARCH64 ? 63 : 0;
    static final int WRITE = AARCH64 ? 64 : 1;
    static final int OPENAT = AARCH64 ? 56 : 257;
    static final int CLOSE = AARCH64 ? 57 : 3;
    static final int IOCTL = AARCH64 ? 29 : 16;
    static final int FCNTL = AARCH64 ? 25 : 72;
    static final int PIPE2 = AARCH64 ? 59 : 293;
    static final int KILL = AARCH64 ? 129 : 62;
    static final int WAIT4 = AARCH64 ? 260 : 61;
    static final int PRCTL = AARCH64 ? 167 : 157;
    static final int GETPID = AARCH64 ? 172 : 39;
    static final int GETUID = AARCH64 ? 174 : 102;
    static final int GETEUID = AARCH64 ? 175 : 107;
    static final int GETGID = AARCH64 ? 176 : 104;
    static final int GETEGID = AARCH64 ? 177 : 108;
    static final int GETXATTR = AARCH64 ? 8 : 191;
    static final int UNSHARE = AARCH64 ? 97 : 272;
    static final int SETNS = AARCH64 ? 268 : 308;
    static final int EXECVE = AARCH64 ? 221 : 59;
    static final int RT_SIGPROCMASK = AARCH64 ? 135 : 14;
    static final int SOCKET = AARCH64 ? 198 : 41;
    static final int BIND = AARCH64 ? 200 : 49;
    static final int LISTEN = AARCH64 ? 201 : 50;
    static final int MKNODAT = AARCH64 ? 33 : 259;
    static final int UNLINKAT = AARCH64 ? 35 : 263;
    static final int CHDIR = AARCH64 ? 49 : 80;
    static final int FLOCK = AARCH64 ? 32 : 73;
    // the server's sockets and per-call file-system context (issue 17)
    static final int CONNECT = AARCH64 ? 203 : 42;
    static final int ACCEPT4 = AARCH64 ? 242 : 288;
    static final int SENDMSG = AARCH64 ? 211 : 46;
    static final int RECVMSG = AARCH64 ? 212 : 47;
    static final int GETSOCKOPT = AARCH64 ? 209 : 55;
    static final int SOCKETPAIR = AARCH64 ? 199 : 53;
    static final int PPOLL = AARCH64 ? 73 : 271;
    static final int UMASK = AARCH64 ? 166 : 95;
    static final int FCHDIR = AARCH64 ? 50 : 81;
    static final int SETSID = AARCH64 ? 157 : 112;

    private SyscallNumbers() {
    }
}
