#!/bin/sh
# The desk's scheduled run, the same script on every CI (GitHub, GitLab, Forgejo) and in the
# tests: run from a clone of the desk, it brings the clone up to date, runs `mesa sweep`,
# `mesa inbox fetch` (only where desk.yaml configures an inbox and this mesa has the command)
# and `mesa outbox send`, and pushes what each did, with a clear bot identity.
#
# Safe when two runs overlap:
# - every push is a plain fast-forward: on rejection it rebases (the ticket merge driver
#   unions event logs; the same sweep event made by two runs is kept once) and retries; it
#   never force-pushes;
# - the outbox phase holds a lease on the remote (ref refs/mesa/outbox-lease, advanced by
#   fast-forward pushes only, so the server lets exactly one run take it): one run at a time
#   sends, from the latest state, and records each delivery in its ticket (a `mailed` event)
#   before letting go, so no email is sent twice;
# - a run that died holding the lease leaves it held: the next run refuses to send and says
#   so (exit 3), because the dead run may have sent mail it never recorded. An operator checks
#   the SMTP server's log, then runs this script with --release-lease.
#
# Environment: MESA (the mesa command, default `mesa`), MESA_REMOTE (default origin),
# MESA_BRANCH (default: the current branch), MESA_BOT_NAME / MESA_BOT_EMAIL (the commits'
# identity), MESA_RUN_ID (names the lease holder; default host and process), MESA_LEASE_TTL
# (seconds, default 900), MESA_SMTP_USER / MESA_SMTP_PASSWORD / MESA_IMAP_* (from the CI's
# secret store), MESA_NOW (tests).
# Exit: 0 done; 1 a step reported a problem (its output says which); 2 could not push;
# 3 the outbox lease is held by a run that did not finish.
set -u
MESA=${MESA:-mesa}
REMOTE=${MESA_REMOTE:-origin}
BRANCH=${MESA_BRANCH:-$(git symbolic-ref --short HEAD)}
RUN_ID=${MESA_RUN_ID:-$(hostname 2>/dev/null || echo runner)-$$}
TTL=${MESA_LEASE_TTL:-900}
LEASE=refs/mesa/outbox-lease
EMPTY_TREE=4b825dc642cb6eb9a060e54bf8d69288fbee4904

MESA_BOT_NAME=${MESA_BOT_NAME:-mesa (scheduled)}
MESA_BOT_EMAIL=${MESA_BOT_EMAIL:-mesa-bot@localhost}
export MESA_BOT_NAME MESA_BOT_EMAIL
git config user.name "$MESA_BOT_NAME"
git config user.email "$MESA_BOT_EMAIL"
# The ticket merge driver, so rebases union event logs.
$MESA --quiet hooks install >/dev/null || exit 1

status=0
say() { echo "mesa-scheduled: $*" >&2; }

sync() {
  git fetch -q "$REMOTE" "$BRANCH" && git rebase -q "$REMOTE/$BRANCH" >/dev/null 2>&1 || {
    git rebase --abort 2>/dev/null
    git merge -q --no-edit "$REMOTE/$BRANCH" || return 1
  }
}

# Push HEAD to the branch; on rejection rebase and retry. Never --force.
publish() {
  n=0
  while [ $n -lt 10 ]; do
    git push -q "$REMOTE" "HEAD:refs/heads/$BRANCH" 2>/dev/null && return 0
    n=$((n + 1))
    sync || return 1
  done
  return 1
}

if [ "${1:-}" = "--release-lease" ]; then
  git fetch -q "$REMOTE" "+$LEASE:$LEASE" 2>/dev/null || exit 0
  c=$(printf 'released by %s (operator)\n' "$RUN_ID" | git commit-tree $EMPTY_TREE -p "$(git rev-parse $LEASE)")
  git push -q "$REMOTE" "$c:$LEASE" && say "lease released" && exit 0
  exit 2
fi

now_s() { date +%s; }

# Takes the outbox lease: 0 taken, 1 held by another live run, 3 held by a run that died.
take_lease() {
  tries=0
  while [ $tries -lt 10 ]; do
    tries=$((tries + 1))
    git update-ref -d $LEASE 2>/dev/null
    git fetch -q "$REMOTE" "+$LEASE:$LEASE" 2>/dev/null
    old=$(git rev-parse -q --verify $LEASE)
    if [ -n "$old" ]; then
      msg=$(git log -1 --format=%s "$old")
      case "$msg" in
        held*)
          until=$(echo "$msg" | sed -n 's/.* until \([0-9]*\).*/\1/p')
          holder=$(echo "$msg" | sed -n 's/^held by \([^ ]*\) .*/\1/p')
          if [ "$(now_s)" -lt "${until:-0}" ]; then
            say "the outbox is being sent by $holder; this run does not send"
            return 1
          fi
          say "the run $holder took the outbox lease and did not finish: it may have sent mail it did not record; check, then run with --release-lease"
          return 3
          ;;
      esac
      parent="-p $old"
    else
      parent=""
    fi
    c=$(printf 'held by %s until %s\n' "$RUN_ID" $(($(now_s) + TTL)) | git commit-tree $EMPTY_TREE $parent)
    # A fast-forward push: if another run moved the lease first, the server refuses this one.
    if git push -q "$REMOTE" "$c:$LEASE" 2>/dev/null; then
      git update-ref $LEASE "$c"
      return 0
    fi
  done
  return 1
}

release_lease() {
  c=$(printf 'released by %s\n' "$RUN_ID" | git commit-tree $EMPTY_TREE -p "$(git rev-parse $LEASE)")
  git push -q "$REMOTE" "$c:$LEASE"
}

sync || { say "could not bring the clone up to date"; exit 2; }

# The 24 h reminders and 72 h closes (identical events in any run, kept once by the merge).
$MESA sweep || status=1
publish || { say "could not push the sweep"; exit 2; }

# Customer email, where this desk reads a mailbox and this mesa can.
# (desk.yaml `mail.inbound.imap`: the only `imap:` key desk.yaml has).
if grep -Eq '^[[:space:]]+imap:' desk.yaml 2>/dev/null && $MESA inbox --help >/dev/null 2>&1; then
  $MESA inbox fetch || status=1
  publish || { say "could not push the inbox"; exit 2; }
fi

# The outbox, one run at a time.
take_lease
lease=$?
if [ $lease -eq 0 ]; then
  sync || { release_lease; say "could not bring the clone up to date"; exit 2; }
  $MESA outbox send || status=1
  if publish; then
    # A message whose sending broke after DATA may have been delivered; this workspace
    # does not outlive the job, so the lease stays held and the next run asks an operator.
    if ls outbox/*/uncertain.json >/dev/null 2>&1; then
      say "some messages were possibly sent (see mesa outbox list); the lease stays held"
      exit 3
    fi
    release_lease || status=1
  else
    say "could not push the delivery records; the lease stays held until they are pushed"
    exit 2
  fi
elif [ $lease -eq 3 ]; then
  exit 3
fi
exit $status
