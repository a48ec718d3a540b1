/*
 * The components weir runs: one ops table per canonical class id
 * (df_class_normalize).  Add a line here for each new component.
 */
#include <string.h>

#include "base/banned.h"
#include "dataflow/df_int.h"

extern const struct df_component_ops df_flatfile_source_ops;
extern const struct df_component_ops df_flatfile_destination_ops;
extern const struct df_component_ops df_rowcount_ops;
extern const struct df_component_ops df_multicast_ops;
extern const struct df_component_ops df_unionall_ops;
extern const struct df_component_ops df_recordset_ops;
extern const struct df_component_ops df_raw_source_ops;
extern const struct df_component_ops df_raw_destination_ops;
extern const struct df_component_ops df_derived_ops;
extern const struct df_component_ops df_split_ops;
extern const struct df_component_ops df_convert_ops;
extern const struct df_component_ops df_sort_ops;
extern const struct df_component_ops df_mergejoin_ops;
extern const struct df_component_ops df_aggregate_ops;
extern const struct df_component_ops df_copycolumn_ops;
extern const struct df_component_ops df_charmap_ops;
extern const struct df_component_ops df_audit_ops;
extern const struct df_component_ops df_pctsample_ops;
extern const struct df_component_ops df_merge_ops;
extern const struct df_component_ops df_rowsample_ops;
extern const struct df_component_ops df_pivot_ops;
extern const struct df_component_ops df_unpivot_ops;
extern const struct df_component_ops df_cache_ops;

extern const struct df_component_ops df_oledb_source_ops;
extern const struct df_component_ops df_adonet_source_ops;
extern const struct df_component_ops df_odbc_source_ops;
extern const struct df_component_ops df_oledb_dest_ops;
extern const struct df_component_ops df_adonet_dest_ops;
extern const struct df_component_ops df_odbc_dest_ops;
extern const struct df_component_ops df_lookup_ops;
extern const struct df_component_ops df_oledb_command_ops;

static const struct df_component_ops *const all_ops[] = {
    &df_oledb_source_ops,
    &df_adonet_source_ops,
    &df_odbc_source_ops,
    &df_oledb_dest_ops,
    &df_adonet_dest_ops,
    &df_odbc_dest_ops,
    &df_lookup_ops,
    &df_oledb_command_ops,
    &df_flatfile_source_ops,
    &df_flatfile_destination_ops,
    &df_rowcount_ops,
    &df_multicast_ops,
    &df_unionall_ops,
    &df_recordset_ops,
    &df_raw_source_ops,
    &df_raw_destination_ops,
    &df_derived_ops,
    &df_split_ops,
    &df_convert_ops,
    &df_sort_ops,
    &df_mergejoin_ops,
    &df_aggregate_ops,
    &df_copycolumn_ops,
    &df_charmap_ops,
    &df_audit_ops,
    &df_pctsample_ops,
    &df_merge_ops,
    &df_rowsample_ops,
    &df_pivot_ops,
    &df_unpivot_ops,
    &df_cache_ops,
};

const struct df_component_ops *
df_ops_for(const char *class_id)
{
    for (size_t i = 0; class_id && i < sizeof(all_ops) / sizeof(all_ops[0]);
         i++)
        if (!strcmp(all_ops[i]->class_id, class_id))
            return all_ops[i];
    return NULL;
}
