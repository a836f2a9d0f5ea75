package dev.gvshim.diagnose;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where gvshim runs, so that a fix can be written for that environment: which container
 * runtime (if any) made this process's world, and which CI system (if any) runs the job.
 *
 * @param kind     the container (or host) this process is in
 * @param ci       the CI system's name (GitHub Actions, GitLab CI, ...), or null
 * @param evidence what the detection read, for `gvshim doctor`
 */
public record Environment(Kind kind, String ci, String evidence) {
    public enum Kind {
        HOST("host"),
        DOCKER("Docker container"),
        PODMAN("Podman container"),
        KUBERNETES("Kubernetes pod");

        private final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    public static final Environment HOST = of(Kind.HOST);
    public static final Environment DOCKER = of(Kind.DOCKER);
    public static final Environment PODMAN = of(Kind.PODMAN);
    public static final Environment KUBERNETES = of(Kind.KUBERNETES);

    /** Variables by which CI systems announce themselves, most specific first. */
    private static final List<Map.Entry<String, String>> CI_VARS = List.of(
            Map.entry("GITHUB_ACTIONS", "GitHub Actions"), Map.entry("GITLAB_CI", "GitLab CI"),
            Map.entry("BUILDKITE", "Buildkite"), Map.entry("JENKINS_URL", "Jenkins"),
            Map.entry("TF_BUILD", "Azure Pipelines"), Map.entry("CIRCLECI", "CircleCI"), Map.entry("CI", "CI"));

    public static Environment of(Kind kind) {
        return new Environment(kind, null, null);
    }

    public Environment withCi(String name) {
        return new Environment(kind, name, evidence);
    }

    /** "Docker container", "host (GitHub Actions runner)", "Docker container (GitLab CI job)". */
    public String label() {
        if (ci == null) {
            return kind.label;
        }
        return kind.label + (kind == Kind.HOST ? " (" + ci + " runner)" : " (" + ci + " job)");
    }

    public boolean docker() {
        return kind == Kind.DOCKER;
    }

    /**
     * Reads marker files under {@code root} and the environment variables. A leftover
     * {@code /.dockerenv} (images exported to VMs keep it) only counts when the mounts agree:
     * Docker bind-mounts /etc/hostname from its containers directory and roots the container
     * on overlayfs.
     */
    public static Environment detect(Path root, Map<String, String> env) {
        String ci = null;
        for (Map.Entry<String, String> e : CI_VARS) {
            String v = env.get(e.getKey());
            if (v != null && !v.isEmpty() && !v.equalsIgnoreCase("false")) {
                ci = e.getValue();
                break;
            }
        }
        Environment found = detectKind(root, env);
        return found.withCi(ci);
    }

    private static Environment detectKind(Path root, Map<String, String> env) {
        Path sa = root.resolve("var/run/secrets/kubernetes.io/serviceaccount");
        if (env.containsKey("KUBERNETES_SERVICE_HOST") || Files.exists(sa)) {
            return new Environment(Kind.KUBERNETES, null, env.containsKey("KUBERNETES_SERVICE_HOST")
                    ? "KUBERNETES_SERVICE_HOST is set" : "/var/run/secrets/kubernetes.io/serviceaccount exists");
        }
        if (Files.exists(root.resolve("run/.containerenv")) || "podman".equals(env.get("container"))) {
            return new Environment(Kind.PODMAN, null, "/run/.containerenv exists");
        }
        if (Files.exists(root.resolve(".dockerenv"))) {
            String mounts = mountSignals(root);
            if (mounts != null) {
                return new Environment(Kind.DOCKER, null, "/.dockerenv exists, " + mounts);
            }
            return new Environment(Kind.HOST, null,
                    "/.dockerenv exists, but / is not overlayfs and /etc/hostname is not a bind mount: a file left in"
                            + " the image, not a running Docker container");
        }
        return new Environment(Kind.HOST, null, "no container markers (/.dockerenv, /run/.containerenv, Kubernetes)");
    }

    /** Docker's fingerprints in mountinfo, or null. */
    private static String mountSignals(Path root) {
        try {
            Mounts mounts = Mounts.parse(Files.readString(root.resolve("proc/self/mountinfo")));
            Mounts.Entry hostname = mounts.at("/etc/hostname");
            if (hostname != null && hostname.root().contains("/containers/")) {
                return "/etc/hostname is bind-mounted from " + hostname.root();
            }
            Mounts.Entry slash = mounts.at("/");
            if (slash != null && slash.fsType().equals("overlay")) {
                return "/ is overlayfs";
            }
        } catch (IOException | RuntimeException e) {
            return "mountinfo unreadable";
        }
        return null;
    }

    /** The same fix, phrased for Docker (or Podman), Kubernetes or the host. */
    public String pick(String docker, String kubernetes, String host) {
        return switch (kind) {
            case DOCKER, PODMAN -> docker;
            case KUBERNETES -> kubernetes;
            case HOST -> host;
        };
    }

    /**
     * A change to a kernel setting: where it has to be made. Inside a container it is the
     * host's (sysctls are read-only there); on a CI runner it is a step of the job.
     */
    public String onHost(String command) {
        return switch (kind) {
            case DOCKER, PODMAN -> "on the Docker host (not in the container: /proc/sys is read-only here): " + command;
            case KUBERNETES -> "on the node, for example from a privileged DaemonSet: " + command;
            case HOST -> ci != null ? "add a step to the job before gvshim runs: sudo " + command
                    : "as root: " + command + " (persist it in /etc/sysctl.d/)";
        };
    }
}
