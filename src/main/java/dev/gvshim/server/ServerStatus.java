package dev.gvshim.server;

import dev.gvshim.pool.SandboxPools;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** The text of `gvshim server status`: who the server is, what it has served, what it holds. */
final class ServerStatus {
    private ServerStatus() {
    }

    static String text(long pid, Instant started, long uptimeSeconds, Server.Config cfg, Path log, long calls, int active,
            SandboxPools pools) {
        StringBuilder b = new StringBuilder();
        b.append("pid ").append(pid).append('\n');
        b.append("started ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" (uptime ").append(uptimeSeconds)
                .append(" s)\n");
        b.append("build ").append(cfg.buildId()).append('\n');
        b.append("home ").append(cfg.home()).append('\n');
        b.append("socket ").append(cfg.where().socket()).append('\n');
        b.append("log ").append(log).append('\n');
        b.append("calls ").append(calls).append(" served, ").append(active).append(" active\n");
        b.append("idle timeout ").append(cfg.idleMillis() == 0 ? "none" : cfg.idleMillis() / 1000 + " s"
                + (pools == null || pools.isEmpty() ? "" : " (not while it holds pools)")).append('\n');
        b.append(Memory.of(Path.of("/proc/self/status"))).append('\n');
        return b.append(pools == null ? "" : pools.status()).toString();
    }
}
