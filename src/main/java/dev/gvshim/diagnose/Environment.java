package dev.gvshim.diagnose;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Where gvshim runs, so that a fix can be written for that environment. */
public enum Environment {
    KUBERNETES("Kubernetes pod"),
    DOCKER("Docker container"),
    PODMAN("Podman container"),
    CI("CI runner"),
    HOST("host");

    private final String label;

    Environment(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** Reads marker files under {@code root} and the environment variables. */
    public static Environment detect(Path root, Map<String, String> env) {
        if (env.containsKey("KUBERNETES_SERVICE_HOST")
                || Files.exists(root.resolve("var/run/secrets/kubernetes.io/serviceaccount"))) {
            return KUBERNETES;
        }
        if (Files.exists(root.resolve(".dockerenv"))) {
            return DOCKER;
        }
        if (Files.exists(root.resolve("run/.containerenv"))) {
            return PODMAN;
        }
        for (String ci : new String[] {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL", "TF_BUILD"}) {
            if (env.containsKey(ci)) {
                return CI;
            }
        }
        return HOST;
    }

    /** The same fix, phrased for Docker, Kubernetes or the host. */
    public String pick(String docker, String kubernetes, String host) {
        return switch (this) {
            case DOCKER, PODMAN -> docker;
            case KUBERNETES -> kubernetes;
            default -> host;
        };
    }
}
