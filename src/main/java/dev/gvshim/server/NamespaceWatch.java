package dev.gvshim.server;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a server in a user namespace other than the initial one is the last process of its
 * user in that namespace. It then has no caller left and can have none: a server serves only
 * callers in its own namespaces, and entering a namespace whose processes are all gone takes
 * setns(2) on this server's own /proc/PID/ns/user, i.e. privileges over it. `unshare -Ur gvshim
 * run ...` would otherwise keep a JVM, and the namespace, for the idle timeout after each such
 * call.
 */
final class NamespaceWatch {
    private NamespaceWatch() {
    }

    /**
     * {@code proc}'s processes other than {@code self} and its children: is none of them in
     * {@code self}'s user namespace? False in the initial user namespace (a host's processes come
     * and go), and whenever it cannot tell.
     */
    static boolean alone(Path proc, long self) {
        String mine;
        try {
            mine = Files.readSymbolicLink(proc.resolve(self + "/ns/user")).toString();
            if (initial(Files.readString(proc.resolve(self + "/uid_map")))) {
                return false;
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : pids) {
                long pid = Long.parseLong(p.getFileName().toString());
                if (pid == self) {
                    continue;
                }
                try {
                    if (mine.equals(Files.readSymbolicLink(p.resolve("ns/user")).toString()) && parent(p) != self) {
                        return false;
                    }
                } catch (IOException | RuntimeException e) {
                    // gone, or another user's (which cannot be this server's caller): not a reason to stay
                }
            }
        } catch (IOException e) {
            return false;
        }
        return true;
    }

    /** uid_map of the initial user namespace: all ids, identity (user_namespaces(7)). */
    static boolean initial(String uidMap) {
        String[] f = uidMap.strip().split("\\s+");
        return f.length == 3 && f[0].equals("0") && f[1].equals("0") && f[2].equals("4294967295");
    }

    /** The parent pid in /proc/PID/stat (the field after the command's closing parenthesis). */
    private static long parent(Path pidDir) throws IOException {
        String stat = Files.readString(pidDir.resolve("stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    }
}
