# fish completion for skiff(1).  Installed into fish's
# vendor_completions.d directory as "skiff.fish".

# Print the global options (--root, --runroot) given on the command line, so
# that image and container names come from the store the command will use.
function __skiff_global_opts
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l i 1
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --root --runroot
                set -l j (math $i + 1)
                if test $j -le (count $tokens)
                    echo -- $tokens[$i]
                    string replace -r '^~/' "$HOME/" -- $tokens[$j]
                end
                set i $j
            case '--root=*' '--runroot=*'
                string replace -r '=~/' "=$HOME/" -- $tokens[$i]
            case '-*'
            case '*'
                return
        end
        set i (math $i + 1)
    end
end

# Image names, REPOSITORY:TAG, from "skiff images" (skip the header and
# untagged images).
function __skiff_images
    command skiff (__skiff_global_opts) images 2>/dev/null |
        awk 'NR > 1 && $1 != "<none>" { print $1 ":" $2 }'
end

# Container names: the last column (NAMES) of "skiff ps -a".
function __skiff_containers
    command skiff (__skiff_global_opts) ps -a 2>/dev/null |
        awk 'NR > 1 { print $NF }'
end

# Parse the command line up to the cursor.  Prints two lines: the command
# ("" if none yet; "image", "container" or "system" if a group's subcommand
# is still missing; otherwise one of run create build commit history diff
# import save load export images tag rmi image-inspect pull push login logout ps
# rename rm exec
# start restart attach stop kill wait logs top pause unpause cp port info version
# unshare container-prune
# system-reset inspect container-inspect, or "?" if unknown), and the number
# of positional arguments before the current token.
function __skiff_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd ''
    set -l argopts
    set -l npos 0
    set -l i 1
    set -l n (count $tokens)
    # Global options.
    while test $i -le $n
        switch $tokens[$i]
            case --root --runroot
                set i (math $i + 1)
            case '-*'
            case '*'
                set cmd $tokens[$i]
                break
        end
        set i (math $i + 1)
    end
    if test -z "$cmd"
        printf '%s\n' '' 0
        return
    end
    set i (math $i + 1)
    # Command groups.
    if contains -- $cmd image container system
        set -l sub ''
        while test $i -le $n
            switch $tokens[$i]
                case '-*'
                case '*'
                    set sub $tokens[$i]
                    break
            end
            set i (math $i + 1)
        end
        if test -z "$sub"
            printf '%s\n' $cmd 0
            return
        end
        set i (math $i + 1)
        switch "$cmd $sub"
            case 'image build'
                set cmd build
            case 'image history'
                set cmd history
            case 'image ls' 'image list'
                set cmd images
            case 'image rm'
                set cmd rmi
            case 'image tag'
                set cmd tag
            case 'image import'
                set cmd import
            case 'image save'
                set cmd save
            case 'image load'
                set cmd load
            case 'container export'
                set cmd export
            case 'image inspect'
                set cmd image-inspect
            case 'image pull'
                set cmd pull
            case 'image push'
                set cmd push
            case 'container commit'
                set cmd commit
            case 'container diff'
                set cmd diff
            case 'container inspect'
                set cmd container-inspect
            case 'container ls' 'container list' 'container ps'
                set cmd ps
            case 'container create'
                set cmd create
            case 'container rename'
                set cmd rename
            case 'container rm'
                set cmd rm
            case 'container start'
                set cmd start
            case 'container restart'
                set cmd restart
            case 'container attach'
                set cmd attach
            case 'container stop'
                set cmd stop
            case 'container exec'
                set cmd exec
            case 'container kill'
                set cmd kill
            case 'container wait'
                set cmd wait
            case 'container logs'
                set cmd logs
            case 'container top'
                set cmd top
            case 'container port'
                set cmd port
            case 'container cp'
                set cmd cp
            case 'container pause'
                set cmd pause
            case 'container unpause'
                set cmd unpause
            case 'container run'
                set cmd run
            case 'container prune'
                set cmd container-prune
            case 'system reset'
                set cmd system-reset
            case '*'
                set cmd '?'
        end
    end
    switch $cmd
        case run create
            set argopts -e --env --env-file -w --workdir -u --user -v --volume \
                --mount --tmpfs --name -h --hostname --entrypoint --network \
                --net --userns -m --memory --cpus --pids-limit --pull --cap-add \
                --cap-drop --security-opt --preserve-fds --sysctl --ulimit \
                --stop-signal --stop-timeout --log-opt -l --label --label-file \
                --cidfile --restart -p --publish --dns --dns-search --dns-option --add-host
        case build
            set argopts -t --tag -f --file --build-arg --target --label --secret \
                --iidfile --network --platform
        case commit
            set argopts -c --change -m --message -a --author
        case history
            set argopts -H --human --format
        case inspect
            set argopts -f --format --type
        case container-inspect image-inspect info version
            set argopts -f --format
        case import
            set argopts -c --change -m --message
        case save
            set argopts -o --output --format
        case load
            set argopts -i --input
        case export
            set argopts -o --output
        case pull
            set argopts --authfile --cert-dir --creds --platform
        case push
            set argopts --authfile --cert-dir --creds --digestfile
        case login
            set argopts --authfile --cert-dir -u --username -p --password
        case logout
            set argopts --authfile
        case stop
            set argopts -s --signal -t --time
        case restart
            set argopts -t --time
        case attach
            set argopts --detach-keys
        case exec
            set argopts -e --env --env-file -u --user -w --workdir
        case kill
            set argopts -s --signal
        case logs
            set argopts -n --tail --since --until
        case ps
            set argopts -f --filter --format -n --last
        case images
            set argopts --format
    end
    # Positional arguments of the command.
    while test $i -le $n
        set -l t $tokens[$i]
        if test "$t" = --
            set npos (math $npos + $n - $i)
            break
        else if string match -qr -- '^-.' $t
            if contains -- $t $argopts
                set i (math $i + 1)
            end
        else
            set npos (math $npos + 1)
            # For run, create and unshare, everything after the first
            # argument belongs to the command run in the container or
            # namespace; for top, to ps.
            if contains -- $cmd run create unshare top
                set npos (math $npos + $n - $i)
                break
            end
        end
        set i (math $i + 1)
    end
    printf '%s\n' $cmd $npos
end

# True if no command has been given yet.
function __skiff_needs_command
    set -l s (__skiff_parse)
    test -z "$s[1]"
end

# True if the command is one of the arguments.
function __skiff_using
    set -l s (__skiff_parse)
    contains -- "$s[1]" $argv
end

# __skiff_using_pos CMD OP N: true if the command is CMD and the number of
# positional arguments before the current token satisfies "test npos OP N".
function __skiff_using_pos
    set -l s (__skiff_parse)
    test "$s[1]" = "$argv[1]"; and test "$s[2]" $argv[2] $argv[3]
end

# __skiff_npos OP N: true if the number of positional arguments before the
# current token satisfies "test npos OP N" (after __skiff_using, for
# commands that share their completions).
function __skiff_npos
    set -l s (__skiff_parse)
    test "$s[2]" $argv[1] $argv[2]
end

# True if the current token is --tls-verify=...: the value is completed only
# in that form, since "--tls-verify false" would make "false" an argument.
function __skiff_tls_verify_token
    string match -q -- '--tls-verify=*' (commandline -ct)
end

# True if the current token is --pull=... (build): as for --tls-verify, the
# value must be in the same token.
function __skiff_pull_token
    string match -q -- '--pull=*' (commandline -ct)
end

# For --mount: complete the KEY=VALUE item after the last comma.
function __skiff_mount_values
    set -l token (commandline -ct)
    set token (string replace -r -- '^--mount=' '' $token)
    set -l pre (string replace -r -- '[^,]*$' '' $token)
    set -l seg (string replace -r -- '^.*,' '' $token)
    switch $seg
        case 'type=*'
            printf "$pre%s\n" type=bind, type=tmpfs,
        case 'source=*' 'src=*' 'target=*' 'dst=*' 'destination=*'
            set -l key (string replace -r -- '=.*' '=' $seg)
            set -l path (string replace -r -- '^[^=]*=' '' $seg)
            for f in $path*
                test -d $f; and set f $f/
                echo "$pre$key$f"
            end
        case '*=*'
        case '*'
            if string match -q -- '*type=tmpfs*' $token
                printf "$pre%s\n" target= dst= destination= tmpfs-size= tmpfs-mode=
            else if string match -q -- '*type=bind*' $token
                printf "$pre%s\n" source= src= target= dst= destination= readonly ro
            else
                printf "$pre%s\n" type=bind, type=tmpfs,
            end
    end
end

# For ps -f/--filter: KEY= and, after status=, name= and ancestor=, the values.
function __skiff_ps_filter_values
    set -l token (commandline -ct)
    set token (string replace -r -- '^--filter=' '' $token)
    switch $token
        case 'status=*'
            printf 'status=%s\n' created restarting running removing paused exited dead
        case 'name=*'
            printf 'name=%s\n' (__skiff_containers)
        case 'ancestor=*'
            printf 'ancestor=%s\n' (__skiff_images)
        case '*=*'
        case '*'
            printf '%s\n' status= name= id= ancestor= exited= label=
    end
end

# For -v/--volume: HOST-DIR:CONTAINER-DIR[:ro|rw].
function __skiff_volume_values
    set -l token (commandline -ct)
    set token (string replace -r -- '^--volume=' '' $token)
    switch $token
        case '*:*:*'
            set -l pre (string replace -r -- '[^:]*$' '' $token)
            printf "$pre%s\n" ro rw
        case '*:*'
        case '*'
            __fish_complete_directories $token
    end
end

complete -c skiff -f

# Global options.
complete -c skiff -n __skiff_needs_command -l root -x -a '(__fish_complete_directories)' -d 'Directory for persistent storage'
complete -c skiff -n __skiff_needs_command -l runroot -x -a '(__fish_complete_directories)' -d 'Directory for volatile state'
complete -c skiff -n __skiff_needs_command -s h -l help -d 'Show help'
complete -c skiff -n __skiff_needs_command -s v -l version -d 'Print the version'

# Commands.
complete -c skiff -n __skiff_needs_command -a attach -d "Attach to a detached container's input and output"
complete -c skiff -n __skiff_needs_command -a build -d 'Build an image from a Dockerfile'
complete -c skiff -n __skiff_needs_command -a commit -d "Create an image from a container's changes"
complete -c skiff -n __skiff_needs_command -a container -d 'Manage containers'
complete -c skiff -n __skiff_needs_command -a cp -d 'Copy files between a container and the host'
complete -c skiff -n __skiff_needs_command -a create -d 'Create a new container without starting it'
complete -c skiff -n __skiff_needs_command -a diff -d 'List the files a container changed'
complete -c skiff -n __skiff_needs_command -a exec -d 'Run a command in a running container'
complete -c skiff -n __skiff_needs_command -a export -d "Write a container's file system as a tar"
complete -c skiff -n __skiff_needs_command -a history -d 'Show the history of an image'
complete -c skiff -n __skiff_needs_command -a image -d 'Manage images'
complete -c skiff -n __skiff_needs_command -a images -d 'List images'
complete -c skiff -n __skiff_needs_command -a import -d 'Create an image from a root filesystem tarball'
complete -c skiff -n __skiff_needs_command -a info -d 'Show information about the host and the store'
complete -c skiff -n __skiff_needs_command -a inspect -d 'Show details of containers and images'
complete -c skiff -n __skiff_needs_command -a kill -d 'Send a signal to running containers'
complete -c skiff -n __skiff_needs_command -a load -d 'Read images from an archive'
complete -c skiff -n __skiff_needs_command -a login -d 'Log in to a registry'
complete -c skiff -n __skiff_needs_command -a logout -d 'Log out of a registry'
complete -c skiff -n __skiff_needs_command -a logs -d 'Show the output of a detached container'
complete -c skiff -n __skiff_needs_command -a pause -d 'Pause the processes of running containers (not supported)'
complete -c skiff -n __skiff_needs_command -a port -d "List a container's published ports"
complete -c skiff -n __skiff_needs_command -a ps -d 'List containers'
complete -c skiff -n __skiff_needs_command -a pull -d 'Pull an image from a registry'
complete -c skiff -n __skiff_needs_command -a push -d 'Push an image to a registry'
complete -c skiff -n __skiff_needs_command -a rename -d 'Rename a container'
complete -c skiff -n __skiff_needs_command -a restart -d 'Restart containers'
complete -c skiff -n __skiff_needs_command -a rm -d 'Remove containers'
complete -c skiff -n __skiff_needs_command -a rmi -d 'Remove images'
complete -c skiff -n __skiff_needs_command -a run -d 'Run a command in a new container'
complete -c skiff -n __skiff_needs_command -a save -d 'Write images to an archive'
complete -c skiff -n __skiff_needs_command -a start -d 'Start stopped or created containers'
complete -c skiff -n __skiff_needs_command -a stop -d 'Stop running containers'
complete -c skiff -n __skiff_needs_command -a system -d 'Manage the store'
complete -c skiff -n __skiff_needs_command -a tag -d 'Add a name to an image'
complete -c skiff -n __skiff_needs_command -a top -d 'Show the processes of a running container'
complete -c skiff -n __skiff_needs_command -a unpause -d 'Resume the processes of paused containers (not supported)'
complete -c skiff -n __skiff_needs_command -a unshare -d 'Run a command in the user namespace of skiff'
complete -c skiff -n __skiff_needs_command -a version -d 'Show version information'
complete -c skiff -n __skiff_needs_command -a wait -d 'Wait for containers to exit and print their exit codes'

# Command groups.
complete -c skiff -n '__skiff_using image container system' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using image' -a build -d 'Build an image from a Dockerfile'
complete -c skiff -n '__skiff_using image' -a history -d 'Show the history of an image'
complete -c skiff -n '__skiff_using image' -a import -d 'Create an image from a root filesystem tarball'
complete -c skiff -n '__skiff_using image' -a inspect -d 'Show details of images'
complete -c skiff -n '__skiff_using image' -a load -d 'Read images from an archive'
complete -c skiff -n '__skiff_using image' -a save -d 'Write images to an archive'
complete -c skiff -n '__skiff_using image' -a 'ls list' -d 'List images'
complete -c skiff -n '__skiff_using image' -a pull -d 'Pull an image from a registry'
complete -c skiff -n '__skiff_using image' -a push -d 'Push an image to a registry'
complete -c skiff -n '__skiff_using image' -a rm -d 'Remove images'
complete -c skiff -n '__skiff_using image' -a tag -d 'Add a name to an image'
complete -c skiff -n '__skiff_using container' -a commit -d "Create an image from a container's changes"
complete -c skiff -n '__skiff_using container' -a cp -d 'Copy files between a container and the host'
complete -c skiff -n '__skiff_using container' -a diff -d 'List the files a container changed'
complete -c skiff -n '__skiff_using container' -a exec -d 'Run a command in a running container'
complete -c skiff -n '__skiff_using container' -a export -d "Write a container's file system as a tar"
complete -c skiff -n '__skiff_using container' -a inspect -d 'Show details of containers'
complete -c skiff -n '__skiff_using container' -a 'ls list ps' -d 'List containers'
complete -c skiff -n '__skiff_using container' -a prune -d 'Remove all stopped containers'
complete -c skiff -n '__skiff_using container' -a rename -d 'Rename a container'
complete -c skiff -n '__skiff_using container' -a rm -d 'Remove containers'
complete -c skiff -n '__skiff_using container' -a run -d 'Run a command in a new container'
complete -c skiff -n '__skiff_using container' -a create -d 'Create a new container without starting it'
complete -c skiff -n '__skiff_using container' -a start -d 'Start stopped or created containers'
complete -c skiff -n '__skiff_using container' -a restart -d 'Restart containers'
complete -c skiff -n '__skiff_using container' -a attach -d "Attach to a detached container's input and output"
complete -c skiff -n '__skiff_using container' -a stop -d 'Stop running containers'
complete -c skiff -n '__skiff_using container' -a kill -d 'Send a signal to running containers'
complete -c skiff -n '__skiff_using container' -a wait -d 'Wait for containers to exit and print their exit codes'
complete -c skiff -n '__skiff_using container' -a logs -d 'Show the output of a detached container'
complete -c skiff -n '__skiff_using container' -a top -d 'Show the processes of a running container'
complete -c skiff -n '__skiff_using container' -a pause -d 'Pause the processes of running containers (not supported)'
complete -c skiff -n '__skiff_using container' -a port -d "List a container's published ports"
complete -c skiff -n '__skiff_using container' -a unpause -d 'Resume the processes of paused containers (not supported)'
complete -c skiff -n '__skiff_using system' -a reset -d 'Remove all containers, images and the store'

# run and create, the same options (they come before IMAGE; what follows
# IMAGE is the command).
set -l run_opts '__skiff_using run create; and __skiff_npos -eq 0'
set -l capabilities ALL AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE \
    CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE \
    MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP \
    SETGID SETPCAP SETUID SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE \
    SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG SYSLOG WAKE_ALARM
complete -c skiff -n $run_opts -l cap-add -x -a "$capabilities" -d 'Add a capability'
complete -c skiff -n $run_opts -l cap-drop -x -a "$capabilities" -d 'Drop a capability'
complete -c skiff -n $run_opts -l cidfile -r -F -d 'Write the container ID to a new file'
complete -c skiff -n $run_opts -l cpus -x -d 'Limit the number of CPUs'
complete -c skiff -n $run_opts -s d -l detach -d 'Run in the background and print the container ID'
complete -c skiff -n $run_opts -l entrypoint -x -d 'Override the image entrypoint'
complete -c skiff -n $run_opts -s e -l env -x -a '(set -xn)' -d 'Set an environment variable'
complete -c skiff -n $run_opts -l env-file -r -F -d 'Read environment variables from a file'
complete -c skiff -n $run_opts -l help -d 'Show help'
complete -c skiff -n $run_opts -s h -l hostname -x -d 'Set the container host name'
complete -c skiff -n $run_opts -l init -d 'Run an init process as PID 1'
complete -c skiff -n $run_opts -s i -l interactive -d 'Keep standard input open'
complete -c skiff -n $run_opts -s l -l label -x -d 'Set a label KEY=VALUE on the container'
complete -c skiff -n $run_opts -l label-file -r -F -d 'Read labels from a file of KEY=VALUE lines'
complete -c skiff -n $run_opts -l log-opt -x -a 'max-size=' -d 'Log option of a detached container: max-size=SIZE'
complete -c skiff -n $run_opts -s m -l memory -x -d 'Limit memory (bytes, or with k, m, g)'
complete -c skiff -n $run_opts -l mount -x -a '(__skiff_mount_values)' -d 'Add a bind or tmpfs mount'
complete -c skiff -n $run_opts -l name -x -d 'Name the container'
complete -c skiff -n $run_opts -l network -l net -x -a 'pasta slirp4netns none host' -d 'Set the network'
complete -c skiff -n $run_opts -s p -l publish -x -d 'Publish a container port: [hostIP:][hostPort:]containerPort[/proto]'
complete -c skiff -n $run_opts -s P -l publish-all -d 'Publish every exposed port on a free host port'
complete -c skiff -n $run_opts -l dns -x -d 'Set a DNS server'
complete -c skiff -n $run_opts -l dns-search -x -d 'Set a DNS search domain'
complete -c skiff -n $run_opts -l dns-option -x -d 'Set a resolv.conf option'
complete -c skiff -n $run_opts -l add-host -x -d 'Add NAME:IP to /etc/hosts'
complete -c skiff -n $run_opts -l pids-limit -x -d 'Limit the number of processes'
complete -c skiff -n $run_opts -l preserve-fds -x -d 'Pass the file descriptors 3 to 3+N-1'
complete -c skiff -n $run_opts -l privileged -d 'Every capability of the user namespace, nothing masked'
complete -c skiff -n $run_opts -l pull -x -a 'missing always never newer' -d 'When to pull the image'
set -l security_opts no-new-privileges no-new-privileges=true no-new-privileges=false mask= unmask= \
    unmask=ALL systempaths=unconfined seccomp=unconfined seccomp= label=disable apparmor=unconfined
complete -c skiff -n $run_opts -l security-opt -x -a "$security_opts" -d 'Set a security option'
# Signal names for run --stop-signal, stop -s and kill -s (numbers, and names
# without SIG or in lower case, are taken too).
set -l signals SIGHUP SIGINT SIGQUIT SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGKILL SIGUSR1 SIGSEGV \
    SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGSTKFLT SIGCHLD SIGCONT SIGSTOP SIGTSTP SIGTTIN SIGTTOU SIGURG \
    SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS SIGRTMIN SIGRTMAX
complete -c skiff -n $run_opts -l stop-signal -x -a "$signals" -d 'Signal that stop sends first'
complete -c skiff -n $run_opts -l stop-timeout -x -d 'Seconds stop waits before SIGKILL'
set -l sysctls kernel.msgmax= kernel.msgmnb= kernel.msgmni= kernel.sem= kernel.shmall= kernel.shmmax= \
    kernel.shmmni= kernel.shm_rmid_forced= kernel.domainname= fs.mqueue. net.
complete -c skiff -n $run_opts -l sysctl -x -a "$sysctls" -d 'Set a namespaced kernel parameter'
set -l ulimits core= cpu= data= fsize= locks= memlock= msgqueue= nice= nofile= nproc= rss= rtprio= \
    rttime= sigpending= stack=
complete -c skiff -n $run_opts -l ulimit -x -a "$ulimits" -d 'Set a resource limit: NAME=SOFT[:HARD]'
complete -c skiff -n $run_opts -l read-only -d 'Mount the root filesystem read-only'
complete -c skiff -n $run_opts -l restart -x -a 'no on-failure always unless-stopped' -d 'When to start it again after it exits (on-failure:N: at most N times)'
complete -c skiff -n $run_opts -l rm -d 'Remove the container when it exits'
complete -c skiff -n $run_opts -l tmpfs -x -d 'Mount a tmpfs: DIR[:OPTIONS]'
complete -c skiff -n $run_opts -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c skiff -n $run_opts -s u -l user -x -d 'Run as USER[:GROUP]'
complete -c skiff -n $run_opts -l userns -x -a 'keep-id host' -d 'Set the user namespace mode'
complete -c skiff -n $run_opts -s v -l volume -x -a '(__skiff_volume_values)' -d 'Bind-mount HOST-DIR:CONTAINER-DIR[:ro|rw]'
complete -c skiff -n $run_opts -s w -l workdir -x -d 'Set the working directory'
complete -c skiff -n $run_opts -a '(__skiff_images)' -d Image
complete -c skiff -n '__skiff_using run create; and __skiff_npos -gt 0' -F

# exec, container exec (options come before CONTAINER; what follows it is the command).
set -l exec_opts '__skiff_using_pos exec -eq 0'
complete -c skiff -n $exec_opts -s d -l detach -d 'Run the command in the background'
complete -c skiff -n $exec_opts -s e -l env -x -a '(set -xn)' -d 'Set an environment variable'
complete -c skiff -n $exec_opts -l env-file -r -F -d 'Read environment variables from a file'
complete -c skiff -n $exec_opts -l help -d 'Show help'
complete -c skiff -n $exec_opts -s i -l interactive -d 'Keep standard input open'
complete -c skiff -n $exec_opts -l privileged -d 'Every capability of the user namespace, no seccomp filter'
complete -c skiff -n $exec_opts -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c skiff -n $exec_opts -s u -l user -x -d 'Run as USER[:GROUP]'
complete -c skiff -n $exec_opts -s w -l workdir -x -d 'Set the working directory'
complete -c skiff -n $exec_opts -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using_pos exec -gt 0' -F

# build, image build
complete -c skiff -n '__skiff_using build' -l build-arg -x -a '(set -xn)' -d 'Set a build argument KEY[=VALUE]'
complete -c skiff -n '__skiff_using build' -s f -l file -r -F -d 'Read the Dockerfile from this file (- for standard input)'
complete -c skiff -n '__skiff_using build' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using build' -l iidfile -r -F -d 'Write the image ID to a file'
complete -c skiff -n '__skiff_using build' -l label -x -d 'Add a label KEY=VALUE to the image'
complete -c skiff -n '__skiff_using build' -l secret -x -d 'A secret for RUN --mount=type=secret: id=ID,src=FILE'
complete -c skiff -n '__skiff_using build' -l network -x -a 'host none' -d 'Set the network of RUN instructions'
complete -c skiff -n '__skiff_using build' -l no-cache -d 'Run every step, using no cached layer'
complete -c skiff -n '__skiff_using build' -l platform -x -d 'The platform to build for: OS/ARCH[/VARIANT] (this machine only)'
complete -c skiff -n '__skiff_using build' -l pull -d 'When to pull base images (--pull=POLICY; alone: always)'
complete -c skiff -n '__skiff_using build; and __skiff_pull_token' -a '--pull=missing --pull=always --pull=never --pull=newer' -d 'When to pull base images'
complete -c skiff -n '__skiff_using build' -s q -l quiet -d 'Print only the image ID'
complete -c skiff -n '__skiff_using build' -s t -l tag -x -a '(__skiff_images)' -d 'Name the image NAME[:TAG]'
complete -c skiff -n '__skiff_using build' -l target -x -d 'Build up to this stage'
complete -c skiff -n '__skiff_using_pos build -eq 0; and not __skiff_pull_token' -a '(__fish_complete_directories)'
complete -c skiff -n '__skiff_using_pos build -eq 0; and not __skiff_pull_token' -a - -d 'Dockerfile on standard input, no context'

# commit, container commit
complete -c skiff -n '__skiff_using commit' -s a -l author -x -d 'Set the author of the image'
complete -c skiff -n '__skiff_using commit' -s c -l change -x -a 'CMD ENTRYPOINT ENV EXPOSE LABEL STOPSIGNAL USER VOLUME WORKDIR' -d 'Apply a Dockerfile instruction'
complete -c skiff -n '__skiff_using commit' -s m -l message -x -d 'Set a commit message'
complete -c skiff -n '__skiff_using commit' -s p -l pause -d 'Stop a running container while committing (--pause=false: do not)'
complete -c skiff -n '__skiff_using commit' -s q -l quiet -d 'Print only the image ID'
complete -c skiff -n '__skiff_using commit' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos commit -eq 0' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using_pos commit -eq 1' -a '(__skiff_images)' -d 'Image name'

# history, image history
complete -c skiff -n '__skiff_using history' -s H -l human -x -a 'true false' -d 'Show sizes and times in human units'
complete -c skiff -n '__skiff_using history' -l format -x -a 'table json' -d 'Print each row as a Go template, table TEMPLATE or json says'
complete -c skiff -n '__skiff_using history' -l no-trunc -d 'Do not shorten image IDs and commands'
complete -c skiff -n '__skiff_using history' -s q -l quiet -d 'Print only image IDs'
complete -c skiff -n '__skiff_using history' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos history -eq 0' -a '(__skiff_images)' -d Image

# diff, container diff
complete -c skiff -n '__skiff_using diff' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos diff -eq 0' -a '(__skiff_containers)' -d Container

# save, image save
complete -c skiff -n '__skiff_using save' -s o -l output -r -F -d 'Write to FILE (a directory for oci-dir)'
complete -c skiff -n '__skiff_using save' -l format -x -a 'docker-archive oci-archive oci-dir' -d 'Archive format'
complete -c skiff -n '__skiff_using save' -l compress -d 'oci-dir: gzip the layers stored uncompressed'
complete -c skiff -n '__skiff_using save' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using save' -a '(__skiff_images)' -d Image

# load, image load
complete -c skiff -n '__skiff_using load' -s i -l input -r -F -d 'Read from FILE or an OCI layout directory'
complete -c skiff -n '__skiff_using load' -s q -l quiet -d 'Accepted for docker compatibility'
complete -c skiff -n '__skiff_using load' -s h -l help -d 'Show help'

# export, container export
complete -c skiff -n '__skiff_using export' -s o -l output -r -F -d 'Write to FILE'
complete -c skiff -n '__skiff_using export' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos export -eq 0' -a '(__skiff_containers)' -d Container

# import
complete -c skiff -n '__skiff_using import' -s c -l change -x -a 'CMD ENTRYPOINT ENV WORKDIR USER EXPOSE LABEL VOLUME STOPSIGNAL' -d 'Apply a Dockerfile instruction'
complete -c skiff -n '__skiff_using import' -s m -l message -x -d 'Set a commit message'
complete -c skiff -n '__skiff_using import' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos import -eq 0' -F -a - -d 'Standard input'

# images, image ls, image list
complete -c skiff -n '__skiff_using images' -s a -l all -d 'Show all images'
complete -c skiff -n '__skiff_using images' -l digests -d 'Show digests'
complete -c skiff -n '__skiff_using images' -l format -x -a 'table json' -d 'Print each image as a Go template, table TEMPLATE or json says'
complete -c skiff -n '__skiff_using images' -l no-trunc -d 'Do not shorten image IDs'
complete -c skiff -n '__skiff_using images' -s q -l quiet -d 'Print only image IDs'
complete -c skiff -n '__skiff_using images' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos images -eq 0' -a '(__skiff_images)' -d Image

# tag, image tag
complete -c skiff -n '__skiff_using tag' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos tag -lt 2' -a '(__skiff_images)' -d Image

# rmi, image rm
complete -c skiff -n '__skiff_using rmi' -s f -l force -d 'Remove images in use, and all names of an image given by ID'
complete -c skiff -n '__skiff_using rmi' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using rmi' -a '(__skiff_images)' -d Image

# image inspect
complete -c skiff -n '__skiff_using image-inspect' -s f -l format -x -d 'Print each image through a Go template'
complete -c skiff -n '__skiff_using image-inspect' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using image-inspect' -a '(__skiff_images)' -d Image

# inspect, container inspect
complete -c skiff -n '__skiff_using inspect container-inspect' -s f -l format -x -d 'Print each object through a Go template'
complete -c skiff -n '__skiff_using inspect container-inspect' -s s -l size -d 'Add the sizes of containers'
complete -c skiff -n '__skiff_using inspect' -l type -x -a 'container image' -d 'Look only for objects of this type'
complete -c skiff -n '__skiff_using inspect container-inspect' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using inspect container-inspect' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using inspect' -a '(__skiff_images)' -d Image

# pull, push, login: how to reach the registry; logout: where credentials are.
complete -c skiff -n '__skiff_using pull push login' -l tls-verify -d 'Verify TLS certificates (=false also allows plain HTTP)'
complete -c skiff -n '__skiff_using pull push login; and __skiff_tls_verify_token' -a '--tls-verify=true --tls-verify=false' -d 'Verify TLS certificates'
complete -c skiff -n '__skiff_using pull push login' -l cert-dir -x -a '(__fish_complete_directories)' -d 'Use the certificates in this directory'
complete -c skiff -n '__skiff_using pull push login logout' -l authfile -r -F -d 'Credentials file'
complete -c skiff -n '__skiff_using pull push' -l creds -x -d 'Log in as USER[:PASSWORD]'

# pull, image pull
complete -c skiff -n '__skiff_using pull' -l platform -x -a 'linux/amd64 linux/arm64 linux/arm/v7 linux/386 linux/ppc64le linux/s390x linux/riscv64' -d 'Pull the image for OS/ARCH[/VARIANT]'
complete -c skiff -n '__skiff_using pull' -s q -l quiet -d 'Print only the image ID'
complete -c skiff -n '__skiff_using pull' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos pull -eq 0' -a '(__skiff_images)' -d Image

# push, image push
complete -c skiff -n '__skiff_using push' -l digestfile -r -F -d 'Write the digest of the pushed manifest to a file'
complete -c skiff -n '__skiff_using push' -s q -l quiet -d 'Print nothing but errors'
complete -c skiff -n '__skiff_using push' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos push -eq 0' -a '(__skiff_images)' -d Image

# login
complete -c skiff -n '__skiff_using login' -s u -l username -x -d 'Log in as this user'
complete -c skiff -n '__skiff_using login' -s p -l password -x -d 'Log in with this password'
complete -c skiff -n '__skiff_using login' -l password-stdin -d 'Read the password from standard input'
complete -c skiff -n '__skiff_using login' -s h -l help -d 'Show help'

# logout
complete -c skiff -n '__skiff_using logout' -s a -l all -d 'Remove the credentials of every registry'
complete -c skiff -n '__skiff_using logout' -s h -l help -d 'Show help'

# ps, container ls, container list, container ps
complete -c skiff -n '__skiff_using ps' -s a -l all -d 'List all containers'
complete -c skiff -n '__skiff_using ps' -s f -l filter -x -a '(__skiff_ps_filter_values)' -d 'List only the containers that match KEY=VALUE'
complete -c skiff -n '__skiff_using ps' -l format -x -a 'table json' -d 'Print each container as a Go template, table TEMPLATE or json says'
complete -c skiff -n '__skiff_using ps' -s l -l latest -d 'List the last created container'
complete -c skiff -n '__skiff_using ps' -s n -l last -x -d 'List the N last created containers'
complete -c skiff -n '__skiff_using ps' -l no-trunc -d 'Do not shorten IDs and commands'
complete -c skiff -n '__skiff_using ps' -s q -l quiet -d 'Print only container IDs'
complete -c skiff -n '__skiff_using ps' -s h -l help -d 'Show help'

# rm, container rm
complete -c skiff -n '__skiff_using rm' -s f -l force -d 'Kill running containers first'
complete -c skiff -n '__skiff_using rm' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using rm' -a '(__skiff_containers)' -d Container

# rename, container rename
complete -c skiff -n '__skiff_using rename' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos rename -eq 0' -a '(__skiff_containers)' -d Container

# start, restart, attach, stop, kill, wait, logs (and under container)
complete -c skiff -n '__skiff_using start' -s a -l attach -d 'Run in the foreground: its output, its exit status'
complete -c skiff -n '__skiff_using start' -s i -l interactive -d 'Attach standard input (implies --attach)'
complete -c skiff -n '__skiff_using restart' -s t -l time -x -d 'Seconds to wait for it to stop before SIGKILL'
complete -c skiff -n '__skiff_using attach' -l detach-keys -x -a ctrl-p,ctrl-q -d 'Keys that detach, leaving the container running'
complete -c skiff -n '__skiff_using attach' -l no-stdin -d 'Do not attach standard input'
complete -c skiff -n '__skiff_using attach' -l sig-proxy -d 'Pass the signals skiff gets to the container (--sig-proxy=false: not)'
complete -c skiff -n '__skiff_using stop' -s s -l signal -x -a "$signals" -d 'Signal to send first (default: the stop signal)'
complete -c skiff -n '__skiff_using stop' -s t -l time -x -d 'Seconds to wait before SIGKILL'
complete -c skiff -n '__skiff_using kill' -s s -l signal -x -a "$signals" -d 'Signal to send (default KILL)'
complete -c skiff -n '__skiff_using start restart attach stop kill wait logs' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using start restart stop kill wait' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using_pos attach -eq 0' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using logs' -s f -l follow -d 'Follow the log until the container exits'
complete -c skiff -n '__skiff_using logs' -s t -l timestamps -d 'Show the time of each line'
complete -c skiff -n '__skiff_using logs' -s n -l tail -x -a all -d 'Lines to show from the end (default all)'
complete -c skiff -n '__skiff_using logs' -l since -x -d 'Show lines since a time or a duration ago (10m)'
complete -c skiff -n '__skiff_using logs' -l until -x -d 'Show lines until a time or a duration ago'
complete -c skiff -n '__skiff_using_pos logs -eq 0' -a '(__skiff_containers)' -d Container

# top (what follows CONTAINER is for the host's ps), pause, unpause (and under container)
complete -c skiff -n '__skiff_using_pos top -eq 0' -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos top -eq 0' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using_pos port -eq 0' -a '(__skiff_containers)' -d Container
complete -c skiff -n '__skiff_using pause unpause' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using pause unpause' -a '(__skiff_containers)' -d Container

# cp SRC DEST (and under container): host paths, or CONTAINER: (a path
# inside a container is not completed).
complete -c skiff -n '__skiff_using cp' -s a -l archive -d 'Keep the source owners in the container'
complete -c skiff -n '__skiff_using cp' -s L -l follow-link -d 'Follow a symlink given as source'
complete -c skiff -n '__skiff_using cp' -s q -l quiet -d 'Print nothing once done'
complete -c skiff -n '__skiff_using cp' -l help -d 'Show help'
complete -c skiff -n '__skiff_using_pos cp -lt 2' -F -a '(__skiff_containers | string replace -r \'$\' :)' -d Container

# info, version
complete -c skiff -n '__skiff_using info version' -s f -l format -x -d 'Print through a Go template'
complete -c skiff -n '__skiff_using info version' -s h -l help -d 'Show help'

# unshare: COMMAND and its arguments are completed as a command line.
complete -c skiff -n '__skiff_using_pos unshare -eq 0' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using unshare' -x -a '(__skiff_complete_unshare)'

function __skiff_complete_unshare
    set -l tokens (commandline -opc)
    set -l i (contains -i -- unshare $tokens)
    set -l rest $tokens[(math $i + 1)..-1]
    set -l current (commandline -ct)
    if test (count $rest) -eq 0
        # COMMAND itself.
        __fish_complete_command
    else
        complete -C (string join ' ' -- (string escape -- $rest) "$current")
    end
end

# system reset
complete -c skiff -n '__skiff_using container-prune' -s f -l force -d 'Do not ask for confirmation'
complete -c skiff -n '__skiff_using container-prune' -s h -l help -d 'Show help'
complete -c skiff -n '__skiff_using system-reset' -s f -l force -d 'Do not ask for confirmation'
complete -c skiff -n '__skiff_using system-reset' -s h -l help -d 'Show help'
