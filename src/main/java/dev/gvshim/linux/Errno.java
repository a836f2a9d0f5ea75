package dev.gvshim.linux;

/**
 * Linux errno values the code reasons about (asm-generic/errno-base.h and errno.h; the same
 * numbers on x86_64 and aarch64), and their symbolic names and descriptions from glibc
 * ({@code strerrorname_np}, {@code strerror}), linked lazily so that naming an errno costs
 * nothing on the success path.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int E2BIG = 7;
    public static final int ENOEXEC = 8;
    public static final int EBADF = 9;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int ETXTBSY = 26;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int ENODATA = 61;
    public static final int EPROTO = 71;
    public static final int EUSERS = 87;
    public static final int EOPNOTSUPP = 95;
    public static final int ECONNABORTED = 103;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

    private Errno() {
    }

    /** {@code EPERM}, or {@code errno 4711} for a number glibc does not know. */
    public static String name(int errno) {
        String n = Native.strerrorname(errno);
        return n != null ? n : "errno " + errno;
    }

    /** {@code Operation not permitted}. */
    public static String describe(int errno) {
        String d = Native.strerror(errno);
        return d != null ? d : "errno " + errno;
    }
}
