package dev.gvshim.diagnose;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * An I/O failure in words a user reads: strerror's text for the errno behind it, never the
 * exception's class or its bare message. (java.nio's exceptions carry the errno only in
 * their type and the file name as their message: an AccessDeniedException's getMessage() is
 * "/tmp/x", so "cannot write X: " + e.getMessage() reads "cannot write X: X".)
 */
public final class IoError {
    private IoError() {
    }

    /** "permission denied", "no such file or directory", "read-only file system", ... */
    public static String reason(IOException e) {
        return switch (e) {
            case AccessDeniedException a -> "permission denied";
            case NoSuchFileException n -> "no such file or directory";
            case FileAlreadyExistsException x -> "file exists";
            case NotDirectoryException n -> "not a directory";
            case DirectoryNotEmptyException d -> "directory not empty";
            case FileSystemLoopException l -> "too many levels of symbolic links";
            case NotLinkException l -> "not a symbolic link";
            // UnixException's strerror text ("Read-only file system", "No space left on device")
            case FileSystemException f when f.getReason() != null -> plain(f.getReason());
            default -> e.getMessage() != null && !e.getMessage().isBlank() && !e.getMessage().contains("java.")
                    && !e.getMessage().contains("Exception") ? plain(e.getMessage()) : "input/output error";
        };
    }

    /**
     * {@code reason(e)}, naming the file the error was about when it is not {@code subject}:
     * "no such file or directory (r2 does not exist)", "permission denied on /srv (owner root, mode rwx------)".
     */
    public static String reason(IOException e, Path subject) {
        String r = reason(e);
        Path other = e instanceof FileSystemException f && f.getFile() != null ? Path.of(f.getFile()) : null;
        if (other != null && subject != null && !other.equals(subject)) {
            return r + " (" + other + ")";
        }
        if (e instanceof NoSuchFileException && subject != null) {
            Path missing = firstMissing(subject);
            if (missing != null && !missing.equals(subject)) {
                return "the directory " + missing + " does not exist";
            }
        }
        return r;
    }

    /**
     * {@code reason(e)} after the file it was about, when the exception names one:
     * "/tmp/x/state: permission denied", "/f: no space left on device".
     */
    public static String withFile(IOException e) {
        String file = e instanceof FileSystemException f ? f.getFile() : null;
        String r = reason(e);
        return file == null ? r : file + ": " + r;
    }

    /** The first ancestor (from the top) of {@code p} that does not exist, or null. */
    static Path firstMissing(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path at = abs.getRoot();
        for (Path name : abs) {
            at = at.resolve(name);
            if (Files.notExists(at, LinkOption.NOFOLLOW_LINKS)) {
                return p.isAbsolute() ? at : Path.of("").toAbsolutePath().relativize(at);
            }
        }
        return null;
    }

    /** strerror texts start upper case ("Read-only file system"); in the middle of a line they read better lower case. */
    private static String plain(String s) {
        String t = s.strip();
        return t.length() > 1 && Character.isUpperCase(t.charAt(0)) && Character.isLowerCase(t.charAt(1))
                ? t.substring(0, 1).toLowerCase(Locale.ROOT) + t.substring(1) : t;
    }
}
