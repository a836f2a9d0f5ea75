package dev.gvshim.container;

import dev.gvshim.container.Containers.HeldSignal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Signals held for a paused container until it is resumed: what the kernel does for a frozen
 * cgroup's tasks, which runc signals without thawing (a signal stays pending until the task runs
 * again; SIGKILL alone acts on a frozen task: cgroups(7), cgroup.freeze in the kernel's
 * cgroup-v2.rst). runsc 2022-12 refuses to signal a paused container at all. One line per
 * signal in the container's directory.
 */
final class HeldSignals {
    private static final String HELD = "held-signals";

    private HeldSignals() {
    }

    static void hold(Path containerDir, HeldSignal s) throws IOException {
        Files.writeString(containerDir.resolve(HELD), s.signal() + (s.all() ? " all" : "") + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** The signals held, oldest first; they are no longer held. */
    static List<HeldSignal> take(Path containerDir) {
        Path f = containerDir.resolve(HELD);
        List<HeldSignal> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(f)) {
                String[] w = line.strip().split(" ");
                if (!w[0].isEmpty()) {
                    out.add(new HeldSignal(Integer.parseInt(w[0]), w.length > 1 && w[1].equals("all")));
                }
            }
            Files.deleteIfExists(f);
        } catch (IOException | NumberFormatException e) {
            // none held (or a torn line: dropped, as a signal to a dead task is)
        }
        return out;
    }
}
