# sql-lib.sh: builds packages of Execute SQL tasks for the tests (sourced
# after test-lib.sh).
#
#   sql_reset
#   sql_cm NAME TYPE CONNECTION-STRING    a package connection manager
#   sql_var NAME VARIANT-TYPE VALUE       a package variable (User::NAME)
#   sql_task NAME CM SQL [RESULT-TYPE [BINDINGS-XML [EXTRA-ATTRIBUTES]]]
#   sql_package FILE                      writes the package; the tasks run
#                                         in the order given (Success)
#
# CM is the connection manager's DTSID, which sql_cm makes "{CM-NAME}".
# SQL is plain text (newlines allowed); it is escaped here.  Bindings:
#   $(sql_in ORDINAL VARIABLE [DATATYPE]) and
#   $(sql_out NAME-OR-ORDINAL VARIABLE).

sql_reset() { SQL_CMS=""; SQL_VARS=""; SQL_TASKS=""; SQL_NAMES=""; }
sql_reset

xml_esc() {
    printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' \
        -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' |
        awk 'NR > 1 { printf "&#10;" } { printf "%s", $0 }'
}

sql_cm() {
    SQL_CMS="$SQL_CMS
  <DTS:ConnectionManager DTS:refId=\"Package.ConnectionManagers[$1]\"
    DTS:CreationName=\"$2\" DTS:DTSID=\"{CM-$1}\" DTS:ObjectName=\"$1\">
    <DTS:ObjectData><DTS:ConnectionManager
      DTS:ConnectionString=\"$(xml_esc "$3")\"/></DTS:ObjectData>
  </DTS:ConnectionManager>"
}

sql_var() {
    SQL_VARS="$SQL_VARS
  <DTS:Variable DTS:Namespace=\"User\" DTS:ObjectName=\"$1\"
    DTS:DTSID=\"{VAR-$1}\"><DTS:VariableValue DTS:DataType=\"$2\">$(xml_esc "$3")</DTS:VariableValue></DTS:Variable>"
}

sql_in() {
    printf '<SQLTask:ParameterBinding SQLTask:ParameterName="%s" SQLTask:DtsVariableName="%s" SQLTask:ParameterDirection="Input" %s SQLTask:ParameterSize="-1"/>' \
        "$1" "$2" "${3:+SQLTask:DataType=\"$3\"}"
}

# sql_param ORDINAL VARIABLE DIRECTION: Output or ReturnValue bindings.
sql_param() {
    printf '<SQLTask:ParameterBinding SQLTask:ParameterName="%s" SQLTask:DtsVariableName="%s" SQLTask:ParameterDirection="%s"/>' \
        "$1" "$2" "$3"
}

sql_out() {
    printf '<SQLTask:ResultBinding SQLTask:ResultName="%s" SQLTask:DtsVariableName="%s"/>' "$1" "$2"
}

sql_task() {
    SQL_NAMES="$SQL_NAMES|$1"
    SQL_TASKS="$SQL_TASKS
  <DTS:Executable DTS:refId=\"Package\\$1\" DTS:CreationName=\"Microsoft.ExecuteSQLTask\"
    DTS:DTSID=\"{TASK-$1}\" DTS:ExecutableType=\"Microsoft.ExecuteSQLTask\"
    DTS:ObjectName=\"$1\">
    <DTS:ObjectData>
      <SQLTask:SqlTaskData xmlns:SQLTask=\"www.microsoft.com/sqlserver/dts/tasks/sqltask\"
        SQLTask:Connection=\"$2\" SQLTask:SqlStatementSource=\"$(xml_esc "$3")\"
        SQLTask:ResultType=\"${4:-ResultSetType_None}\" ${6:-}>
        ${5:-}
      </SQLTask:SqlTaskData>
    </DTS:ObjectData>
  </DTS:Executable>"
}

sql_constraints() {
    prev=""
    echo "$SQL_NAMES" | tr '|' '\n' | while read -r n; do
        [ -n "$n" ] || continue
        [ -n "$prev" ] && printf '  <DTS:PrecedenceConstraint DTS:refId="Package.PrecedenceConstraints[%s]" DTS:From="Package\\%s" DTS:To="Package\\%s" DTS:ObjectName="%s"/>\n' "$n" "$prev" "$n" "$n"
        prev=$n
    done
}

sql_package() {
    cat >"$1" <<XML
<?xml version="1.0"?>
<DTS:Executable xmlns:DTS="www.microsoft.com/SqlServer/Dts"
  DTS:refId="Package" DTS:CreationName="Microsoft.Package"
  DTS:DTSID="{6A1B2C3D-0000-4000-8000-00000000B001}"
  DTS:ExecutableType="Microsoft.Package" DTS:ObjectName="SqlTest">
  <DTS:Property DTS:Name="PackageFormatVersion">8</DTS:Property>
  <DTS:ConnectionManagers>$SQL_CMS
  </DTS:ConnectionManagers>
  <DTS:Variables>$SQL_VARS
  </DTS:Variables>
  <DTS:Executables>$SQL_TASKS
  </DTS:Executables>
  <DTS:PrecedenceConstraints>
$(sql_constraints)
  </DTS:PrecedenceConstraints>
</DTS:Executable>
XML
}

# run_pkg FILE [weir exec options]: runs it; output in $T/out, errors in
# $T/err, the exit code in $RC.
run_pkg() {
    f=$1; shift
    "$WEIR" exec "$@" "$f" >"$T/out" 2>"$T/err"
    RC=$?
}

# has FILE TEXT: true if FILE contains TEXT (fixed string).
has() { grep -qF -- "$2" "$1"; }
