package dev.gvshim.container;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What gvshim recorded at create. {@code runscId}: the id runsc knows it by
 * ({@link Containers#runscIdFor}); a record of gvshim before runsc ids has none, and then it is
 * {@code id} itself (such a container is addressed only while no other id has it as a prefix).
 */
public record Container(String id, String runscId, Path bundle, boolean rootless, String runsc, List<String> flags,
        int holderPid, long holderStart) {
    /** As {@link java.util.Properties}: read on every verb, where Jackson's first use would cost ~20 ms. */
    java.util.Properties properties() {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("id", id);
        p.setProperty("runscId", runscId);
        p.setProperty("bundle", bundle.toString());
        p.setProperty("rootless", Boolean.toString(rootless));
        p.setProperty("runsc", runsc == null ? "" : runsc);
        p.setProperty("flags", Integer.toString(flags.size()));
        for (int i = 0; i < flags.size(); i++) {
            p.setProperty("flag." + i, flags.get(i));
        }
        if (holderPid > 0) {
            p.setProperty("holderPid", Integer.toString(holderPid));
            p.setProperty("holderStart", Long.toString(holderStart));
        }
        return p;
    }

    static Container of(java.util.Properties p) {
        List<String> flags = new ArrayList<>();
        int n = Integer.parseInt(p.getProperty("flags", "0"));
        for (int i = 0; i < n; i++) {
            flags.add(p.getProperty("flag." + i));
        }
        String runsc = p.getProperty("runsc", "");
        String id = p.getProperty("id", "");
        return new Container(id, p.getProperty("runscId", id), Path.of(p.getProperty("bundle", "/")),
                Boolean.parseBoolean(p.getProperty("rootless")), runsc.isEmpty() ? null : runsc, flags,
                Integer.parseInt(p.getProperty("holderPid", "0")), Long.parseLong(p.getProperty("holderStart", "0")));
    }

    public Container withHolder(int pid, long start) {
        return new Container(id, runscId, bundle, rootless, runsc, flags, pid, start);
    }

    /** Whether runsc knows this container by an id gvshim chose (not a legacy or foreign one). */
    boolean hasOwnRunscId() {
        return !runscId.equals(id);
    }

    /** {@code text} from runsc with the container's own id where runsc wrote its runsc id (whole ids only). */
    String human(String text) {
        if (!hasOwnRunscId() || text == null || !text.contains(runscId)) {
            return text;
        }
        return Pattern.compile("(?<![\\w+.-])" + Pattern.quote(runscId) + "(?![\\w+.-])").matcher(text)
                .replaceAll(Matcher.quoteReplacement(id));
    }
}
