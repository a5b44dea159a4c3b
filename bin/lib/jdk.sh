# Sourced by the bin/ scripts: exports JAVA_HOME pointing at a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then the newest 25+ JDK in the usual system locations.

_tracker_java_major() {
  # Prints the feature release of the JDK at $1 (e.g. 25), or nothing.
  local release="$1/release"
  if [ -r "$release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$release" | head -n 1
  elif [ -x "$1/bin/java" ]; then
    "$1/bin/java" -XshowSettings:properties -version 2>&1 |
      sed -n 's/^ *java.specification.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
  fi
}

tracker_find_jdk() {
  local min=25 candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(_tracker_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /opt/*/jdk* \
                   "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -x "$candidate/bin/javac" ] || continue
    major=$(_tracker_java_major "$candidate")
    [ -n "$major" ] || continue
    if [ "$major" -ge "$min" ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate"
      best_major="$major"
    fi
  done
  if [ -z "$best" ]; then
    echo "error: no JDK $min or newer found (JAVA_HOME=${JAVA_HOME:-unset}; searched /usr/lib/jvm, /usr/java, /opt, ~/.sdkman, ~/.jdks)." >&2
    echo "       Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or 'sdk install java 25-tem', or set JAVA_HOME." >&2
    return 1
  fi
  export JAVA_HOME="$best"
}
