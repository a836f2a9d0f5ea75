package dev.gvshim.runsc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the root of a spec's own user namespace can reach on the host. runsc's gofer joins that
 * namespace before it mounts the root file system and the bind sources (runsc/cmd/gofer.go
 * setupRootFS), so it looks them up as the host uid the container's root maps to, which must be
 * able to search every directory on the way (path_resolution(7)). runc opens a bind source
 * before it joins the namespace; with runsc a source under a directory only its owner may search
 * fails ("stat ...: permission denied"), so gvshim gives runsc a copy of it in a directory that
 * uid can reach (see DeviceFields and container/Bundle.mountDir).
 */
public final class UsernsReach {
    private UsernsReach() {
    }

    /** The host uid and gid the spec's new user namespace maps its root to, or null: no user namespace of its own. */
    public static long[] mappedRoot(JsonNode spec) {
        JsonNode linux = spec.path("linux");
        boolean userns = false;
        for (JsonNode ns : linux.path("namespaces")) {
            userns |= "user".equals(ns.path("type").asText()) && ns.path("path").asText("").isEmpty();
        }
        return userns ? new long[] {hostOfRoot(linux.path("uidMappings")), hostOfRoot(linux.path("gidMappings"))} : null;
    }

    private static long hostOfRoot(JsonNode mappings) {
        for (JsonNode m : mappings) {
            if (m.path("containerID").asLong(-1) == 0 && m.path("size").asLong(0) > 0) {
                return m.path("hostID").asLong(0);
            }
        }
        return 0;
    }

    /** Whether uid/gid may search directory {@code p} by its mode bits (an ACL is not read); true when unknown. */
    public static boolean searchable(Path p, long uid, long gid) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            long owner = (Integer) Files.getAttribute(p, "unix:uid");
            long group = (Integer) Files.getAttribute(p, "unix:gid");
            return owner == uid ? (mode & 0100) != 0 : group == gid ? (mode & 0010) != 0 : (mode & 0001) != 0;
        } catch (IOException | RuntimeException e) {
            return true; // not known: runsc says what it meets
        }
    }

    /** Whether uid/gid may search every existing directory above {@code p} (p itself too when it is one). */
    public static boolean reaches(Path p, long uid, long gid) {
        return firstUnsearchable(p, uid, gid) == null;
    }

    /**
     * The nearest existing directory, from {@code p} (itself too when it is one) up to {@code /},
     * that uid/gid may not search; null when there is none.
     */
    public static Path firstUnsearchable(Path p, long uid, long gid) {
        for (Path d = p; d != null; d = d.getParent()) {
            if (Files.isDirectory(d) && !searchable(d, uid, gid)) {
                return d;
            }
        }
        return null;
    }
}
