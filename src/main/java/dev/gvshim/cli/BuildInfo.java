package dev.gvshim.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this build of gvshim is: its version (the jar's manifest), the commit it was built from
 * and when it was built ({@code git.properties}, written by git-commit-id-maven-plugin at build
 * time; a build from a tree without git says "unknown"). Read only when asked: `--version`,
 * `gvshim version`.
 *
 * @param version the project's version, "dev" outside a packaged jar
 * @param commit  the full commit id, "unknown" when the build had no git repository
 * @param dirty   whether the working tree had changes the commit does not contain
 * @param built   the build's time (ISO 8601, UTC), or "unknown"
 */
record BuildInfo(String version, String commit, boolean dirty, String built) {
    private static final String UNKNOWN = "unknown";

    static BuildInfo read() {
        Properties git = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/gvshim/git.properties")) {
            if (in != null) {
                git.load(in);
            }
        } catch (IOException e) {
            git.clear(); // a build without it: unknown
        }
        return of(Cli.version(), git);
    }

    static BuildInfo of(String version, Properties git) {
        String commit = git.getProperty("git.commit.id.full", "").strip();
        String built = git.getProperty("git.build.time", "").strip();
        return new BuildInfo(version, commit.isEmpty() ? UNKNOWN : commit,
                Boolean.parseBoolean(git.getProperty("git.dirty", "false").strip()), built.isEmpty() ? UNKNOWN : built);
    }

    /** runc's `commit:` value: the commit id, "-dirty" when the tree had changes (git describe's word). */
    String commitLine() {
        return commit + (dirty && !commit.equals(UNKNOWN) ? "-dirty" : "");
    }
}
