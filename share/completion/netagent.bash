# bash completion for netagent(8). GENERATED from netagent's argparse parser by
# netagent.app.completion (scripts/generate-docs): do not edit by hand.

_netagent_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }
_netagent_dirs() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); }
_netagent_files() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }
# A profile: a YAML file, or a directory that may hold one.
_netagent_profiles() {
    compopt -o filenames 2>/dev/null
    local f
    COMPREPLY=()
    while IFS= read -r f; do
        if [[ -d $f || $f == *.yaml || $f == *.yml ]]; then COMPREPLY+=("$f"); fi
    done < <(compgen -f -- "$cur")
}

_netagent() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' i opts
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
    # `--opt=value`: COMP_WORDBREAKS splits it into `--opt`, `=` and `value`.
    if [[ $cur == = ]]; then
        cur=''
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    # The command: the first word that is neither an option nor a top-level option's value.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            --color|--lock-timeout-s|--log-format|--log-level|--state-dir) ((i++)) ;;
            -*) ;;
            *) cmd=${COMP_WORDS[i]}; break ;;
        esac
    done
    # The value of the option before the cursor.
    case "$cmd $prev" in
        " --log-format") _netagent_words "console json" ;;
        " --log-level") _netagent_words "debug info warning error" ;;
        " --color") _netagent_words "auto always never" ;;
        " --state-dir") _netagent_dirs ;;
        " --lock-timeout-s") COMPREPLY=() ;;
        "validate --log-format") _netagent_words "console json" ;;
        "validate --log-level") _netagent_words "debug info warning error" ;;
        "validate --color") _netagent_words "auto always never" ;;
        "validate --state-dir") _netagent_dirs ;;
        "validate --lock-timeout-s") COMPREPLY=() ;;
        "audit --profile") _netagent_profiles ;;
        "audit --format") _netagent_words "text json junit prometheus" ;;
        "audit --root") _netagent_dirs ;;
        "audit --phase") _netagent_words "bake runtime" ;;
        "audit --only") COMPREPLY=() ;;
        "audit --output") _netagent_files ;;
        "audit --imds-endpoint") COMPREPLY=() ;;
        "audit --log-format") _netagent_words "console json" ;;
        "audit --log-level") _netagent_words "debug info warning error" ;;
        "audit --color") _netagent_words "auto always never" ;;
        "audit --state-dir") _netagent_dirs ;;
        "audit --lock-timeout-s") COMPREPLY=() ;;
        "plan --profile") _netagent_profiles ;;
        "plan --format") _netagent_words "text json" ;;
        "plan --root") _netagent_dirs ;;
        "plan --imds-endpoint") COMPREPLY=() ;;
        "plan --log-format") _netagent_words "console json" ;;
        "plan --log-level") _netagent_words "debug info warning error" ;;
        "plan --color") _netagent_words "auto always never" ;;
        "plan --state-dir") _netagent_dirs ;;
        "plan --lock-timeout-s") COMPREPLY=() ;;
        "apply --profile") _netagent_profiles ;;
        "apply --format") _netagent_words "text json" ;;
        "apply --imds-endpoint") COMPREPLY=() ;;
        "apply --log-format") _netagent_words "console json" ;;
        "apply --log-level") _netagent_words "debug info warning error" ;;
        "apply --color") _netagent_words "auto always never" ;;
        "apply --state-dir") _netagent_dirs ;;
        "apply --lock-timeout-s") COMPREPLY=() ;;
        "restore --log-format") _netagent_words "console json" ;;
        "restore --log-level") _netagent_words "debug info warning error" ;;
        "restore --color") _netagent_words "auto always never" ;;
        "restore --state-dir") _netagent_dirs ;;
        "restore --lock-timeout-s") COMPREPLY=() ;;
        "persist --profile") _netagent_profiles ;;
        "persist --root") _netagent_dirs ;;
        "persist --log-format") _netagent_words "console json" ;;
        "persist --log-level") _netagent_words "debug info warning error" ;;
        "persist --color") _netagent_words "auto always never" ;;
        "persist --state-dir") _netagent_dirs ;;
        "persist --lock-timeout-s") COMPREPLY=() ;;
        "daemon --profile") _netagent_profiles ;;
        "daemon --resync-s") COMPREPLY=() ;;
        "daemon --textfile-dir") _netagent_dirs ;;
        "daemon --imds-endpoint") COMPREPLY=() ;;
        "daemon --log-format") _netagent_words "console json" ;;
        "daemon --log-level") _netagent_words "debug info warning error" ;;
        "daemon --color") _netagent_words "auto always never" ;;
        "daemon --state-dir") _netagent_dirs ;;
        "daemon --lock-timeout-s") COMPREPLY=() ;;
        "status --format") _netagent_words "text json" ;;
        "status --log-format") _netagent_words "console json" ;;
        "status --log-level") _netagent_words "debug info warning error" ;;
        "status --color") _netagent_words "auto always never" ;;
        "status --state-dir") _netagent_dirs ;;
        "status --lock-timeout-s") COMPREPLY=() ;;
        "fleet-report --format") _netagent_words "text json html" ;;
        "fleet-report --output") _netagent_files ;;
        "fleet-report --top") COMPREPLY=() ;;
        "fleet-report --log-format") _netagent_words "console json" ;;
        "fleet-report --log-level") _netagent_words "debug info warning error" ;;
        "fleet-report --color") _netagent_words "auto always never" ;;
        "fleet-report --state-dir") _netagent_dirs ;;
        "fleet-report --lock-timeout-s") COMPREPLY=() ;;
        *) false ;;
    esac && return
    case "$cmd" in
        "") opts="-h --help --version --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "validate") opts="-h --help --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "audit") opts="-h --help --profile --format --root --phase --strict --only --failures --output --no-imds --imds-endpoint --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "plan") opts="-h --help --profile --format --root --no-imds --imds-endpoint --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "apply") opts="-h --help --profile --dry-run --format --force --no-imds --imds-endpoint --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "restore") opts="-h --help --dry-run --forget-gone --force --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "persist") opts="-h --help --profile --root --dry-run --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "daemon") opts="-h --help --profile --resync-s --textfile-dir --no-imds --imds-endpoint --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "status") opts="-h --help --format --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        "fleet-report") opts="-h --help --format --output --top --log-format --log-level --color --debug --state-dir --insecure-profile --lock-timeout-s" ;;
        *) return ;;  # an unknown command: nothing to offer
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return
    fi
    case "$cmd" in
        "") _netagent_words "validate audit plan apply restore persist daemon status fleet-report" ;;
        "validate") _netagent_profiles ;;
        "fleet-report") COMPREPLY=() ;;
        *) _netagent_words "$opts" ;;
    esac
}
complete -F _netagent netagent
