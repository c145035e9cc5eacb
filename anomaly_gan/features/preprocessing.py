"""Tabular preprocessing: column roles, schema checks and the numeric encoding.

``TabularPreprocessor`` learns from a training DataFrame which columns feed the
model and how (numeric, categorical, boolean), encodes them into a float32
matrix, checks the schema of frames it scores and maps reconstructions back to
values a person can read. Its learned state is plain JSON (``to_dict`` /
``from_dict``), so a saved model never unpickles it. This module knows nothing
of torch or of files.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from anomaly_gan._typing import FloatArray
from anomaly_gan.exceptions import SchemaError
from anomaly_gan.features.numeric_block import (
    encode_block,
    is_plain_numeric,
    read_block,
)
from anomaly_gan.features.schema import (
    BOOLEAN,
    CATEGORICAL,
    NUMERIC,
    RowIssues,
    as_text,
    category_codes,
    infer_role,
    parse_boolean,
    parse_numeric,
)
from anomaly_gan.features.transform_report import (
    OTHER,
    TransformReport,
    warn_numbers_as_text,
    warn_report,
)

_HEAVY_TAIL_SKEW = 2.0
_N_QUANTILES = 201


class TabularPreprocessor(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Learn column roles and an encoding for a mixed-type table.

    Parameters
    ----------
    numeric_transform : {"robust", "standard", "quantile"}, default="robust"
        ``"robust"``: ``log1p`` on heavy-tailed non-negative columns (skewness
        above 2), then ``(x - median) / (IQR / 1.349)``; ``"standard"``: mean and
        standard deviation; ``"quantile"``: empirical quantiles mapped to a
        standard normal.
    clip : float, default=10.0
        Scaled numeric values are clipped to ``[-clip, clip]``.
    max_categories : int, default=50
        Most frequent values kept per categorical column; the rest share an
        "other" slot, as do values unseen in training.
    min_frequency : float, default=0.001
        Share of rows a value needs to get a slot of its own.
    numeric_cols, categorical_cols, boolean_cols : sequence of str, default=None
        Roles forced for these columns; the others are inferred from dtypes:
        bool is boolean, numbers are numeric, datetimes are timestamps (excluded),
        text is categorical unless it looks like an identifier (over half the
        rows and at least 1,000 distinct values), which is excluded.
    id_cols, timestamp_cols, exclude_cols : sequence of str, default=None
        Columns never fed to the model.
    label_col : str, default=None
        A label column; never fed to the model.
    impute_missing : bool, default=True
        Replace missing numeric values by the training median and missing
        booleans by false; when False, a missing value is an error (or a
        rejected row when scoring with row issues collected).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns of the training frame.
    columns_ : list of dict
        Per model column: name, role and learned parameters.
    excluded_ : dict of str to str
        Columns left out of the model, with the reason.
    output_names_ : list of str
        Names of the encoded columns.
    """

    def __init__(
        self,
        *,
        numeric_transform: str = "robust",
        clip: float = 10.0,
        max_categories: int = 50,
        min_frequency: float = 0.001,
        numeric_cols: Any = None,
        categorical_cols: Any = None,
        boolean_cols: Any = None,
        id_cols: Any = None,
        timestamp_cols: Any = None,
        exclude_cols: Any = None,
        label_col: str | None = None,
        impute_missing: bool = True,
    ) -> None:
        self.numeric_transform = numeric_transform
        self.clip = clip
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.numeric_cols = numeric_cols
        self.categorical_cols = categorical_cols
        self.boolean_cols = boolean_cols
        self.id_cols = id_cols
        self.timestamp_cols = timestamp_cols
        self.exclude_cols = exclude_cols
        self.label_col = label_col
        self.impute_missing = impute_missing

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y: Any = None) -> TabularPreprocessor:
        """Learn roles, vocabularies and scalings from a training frame.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_columns)
            Normal training rows.
        y : ignored

        Returns
        -------
        self : TabularPreprocessor
        """
        frame = _as_frame(X)
        if len(frame) == 0:
            msg = "training data: expected at least one row, found none"
            raise SchemaError(msg)
        roles, excluded, forced = self._assign_roles(frame)
        if not roles:
            msg = (
                "training data: expected at least one usable feature column, "
                f"found none (excluded: {', '.join(excluded) or 'none'})"
            )
            raise SchemaError(msg)
        dtypes = dict(zip(map(str, frame.columns), frame.dtypes, strict=True))
        plain = [
            name
            for name, role in roles.items()
            if role == NUMERIC and is_plain_numeric(dtypes.get(name))
        ]
        block = read_block(frame, plain)
        parsed = {} if block is None else dict(zip(plain, block.T, strict=True))
        columns: list[dict[str, Any]] = []
        for name, role in roles.items():
            if role == NUMERIC:
                x = parsed.get(name)
                if x is None:
                    x = parse_numeric(name, frame[name], RowIssues(len(frame)))
                columns.append(self._fit_numeric(name, x))
            elif role == CATEGORICAL:
                columns.append(self._fit_categorical(name, frame[name]))
            else:
                parse_boolean(name, frame[name], RowIssues(len(frame)))
                columns.append({"name": name, "role": BOOLEAN})
            columns[-1]["inferred"] = name not in forced
        warn_numbers_as_text(
            frame,
            [c["name"] for c in columns if c["inferred"] and c["role"] == CATEGORICAL],
        )
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = len(frame.columns)
        self.columns_ = columns
        self.excluded_ = excluded
        self._build_layout()
        return self

    def _assign_roles(
        self, frame: pd.DataFrame
    ) -> tuple[dict[str, str], dict[str, str], set[str]]:
        """Return each feature's role, each excluded column's reason, the forced names."""
        excluded: dict[str, str] = {}
        for option, reason in (
            ("id_cols", "identifier"),
            ("timestamp_cols", "timestamp"),
            ("exclude_cols", "excluded by option"),
        ):
            for name in _names(getattr(self, option)):
                _require_column(frame, name, option)
                excluded[str(name)] = reason
        if self.label_col is not None:
            _require_column(frame, self.label_col, "label_col")
            excluded[str(self.label_col)] = "label"
        forced: dict[str, str] = {}
        for option, role in (
            ("numeric_cols", NUMERIC),
            ("categorical_cols", CATEGORICAL),
            ("boolean_cols", BOOLEAN),
        ):
            for name in _names(getattr(self, option)):
                _require_column(frame, name, option)
                forced[str(name)] = role
        roles: dict[str, str] = {}
        for name in frame.columns:
            key = str(name)
            if key in excluded:
                continue
            if key in forced:
                roles[key] = forced[key]
                continue
            role_or_reason = infer_role(frame[name])
            if role_or_reason in (NUMERIC, CATEGORICAL, BOOLEAN):
                roles[key] = role_or_reason
            else:
                excluded[key] = role_or_reason
        return roles, excluded, set(forced)

    def _fit_numeric(self, name: str, x: np.ndarray) -> dict[str, Any]:
        missing = np.isnan(x)
        observed = x[~missing]
        if observed.size == 0:
            observed = np.zeros(1)
        median = float(np.median(observed))
        spec: dict[str, Any] = {
            "name": name,
            "role": NUMERIC,
            "median": median,
            "missing_indicator": bool(missing.any()),
            "log": False,
            "min": float(observed.min()),
            "max": float(observed.max()),
        }
        if self.numeric_transform == "quantile":
            grid = np.linspace(0.0, 1.0, _N_QUANTILES)
            spec["quantiles"] = [float(q) for q in np.quantile(observed, grid)]
            return spec
        if self.numeric_transform == "robust" and observed.min() >= 0:
            spec["log"] = bool(_skewness(observed) > _HEAVY_TAIL_SKEW)
        z = np.log1p(observed) if spec["log"] else observed
        if self.numeric_transform == "robust":
            center = float(np.median(z))
            q1, q3 = np.quantile(z, [0.25, 0.75])
            scale = float(q3 - q1) / 1.349
        else:
            center = float(np.mean(z))
            scale = 0.0
        if not scale > 1e-12:
            scale = float(np.std(z))
        if not scale > 1e-12:
            scale = 1.0
        spec["center"] = center
        spec["scale"] = scale
        return spec

    def _fit_categorical(self, name: str, values: pd.Series) -> dict[str, Any]:
        text = as_text(values)
        counts = text.value_counts(dropna=False)
        min_count = max(1, int(np.ceil(self.min_frequency * len(text))))
        kept = [str(v) for v, c in counts.items() if c >= min_count]
        kept = kept[: self.max_categories]
        return {"name": name, "role": CATEGORICAL, "categories": kept}

    def _build_layout(self) -> None:
        names: list[str] = []
        slices: dict[str, tuple[int, int]] = {}
        for spec in self.columns_:
            start = len(names)
            if spec["role"] == NUMERIC:
                names.append(spec["name"])
                if spec["missing_indicator"]:
                    names.append(f"{spec['name']}__missing")
            elif spec["role"] == CATEGORICAL:
                names.extend(f"{spec['name']}={c}" for c in spec["categories"])
                names.append(f"{spec['name']}={OTHER}")
            else:
                names.append(spec["name"])
            slices[spec["name"]] = (start, len(names))
        self.output_names_ = names
        self._slices = slices

    # ------------------------------------------------------------ transform
    @property
    def feature_slices_(self) -> dict[str, tuple[int, int]]:
        """Encoded column range ``[start, stop)`` of each model column."""
        check_is_fitted(self, "columns_")
        return dict(self._slices)

    @property
    def required_columns_(self) -> list[str]:
        """Input columns the model needs, in order."""
        check_is_fitted(self, "columns_")
        return [spec["name"] for spec in self.columns_]

    def transform(self, X: pd.DataFrame) -> FloatArray:
        """Encode a frame; warn once about unseen values and extra columns.

        Raises
        ------
        SchemaError
            A required column is missing or holds a value of the wrong type.
        """
        report = TransformReport()
        encoded = self.transform_with_report(X, report)
        warn_report(report)
        return encoded

    def transform_with_report(
        self,
        X: pd.DataFrame,
        report: TransformReport,
        *,
        row_offset: int = 0,
        issues: RowIssues | None = None,
    ) -> FloatArray:
        """Encode a frame and add what it absorbed to ``report`` (no warnings).

        A value of the wrong type raises a ``SchemaError`` naming its row
        (``row_offset`` plus its position, from 1); with ``issues`` given
        (``raise_first=False``) such rows are recorded there instead, and their
        encoded rows are meaningless: drop them with ``issues.mask``. When the
        preprocessor was built with ``impute_missing=False``, missing feature
        values are such issues too.
        """
        check_is_fitted(self, "columns_")
        frame = _as_frame(X)
        missing_cols = [n for n in self.required_columns_ if n not in frame.columns]
        if missing_cols:
            msg = (
                f"column '{missing_cols[0]}': required by the model, missing from "
                f"the input ({len(missing_cols)} missing in all)"
            )
            raise SchemaError(msg)
        used = set(self.required_columns_) | set(self.excluded_)
        batch = TransformReport(
            n_rows=len(frame),
            extra_columns=[str(c) for c in frame.columns if str(c) not in used],
        )
        if issues is None:
            issues = RowIssues(len(frame), row_offset=row_offset)
        out = np.zeros((len(frame), len(self.output_names_)), dtype=np.float32)
        block = self._encode_block(frame, out)
        for spec in self.columns_:
            start, _ = self._slices[spec["name"]]
            if spec["role"] == NUMERIC and spec["name"] in block:
                if block[spec["name"]]:
                    batch.imputed[spec["name"]] = block[spec["name"]]
                continue
            values = frame[spec["name"]]
            if spec["role"] == NUMERIC:
                x = parse_numeric(spec["name"], values, issues)
                missing = np.isnan(x) & values.isna().to_numpy()
                self._check_missing(spec["name"], missing, values, issues)
                missing = np.isnan(x)
                if missing.any():
                    batch.imputed[spec["name"]] = int(missing.sum())
                    x = np.where(missing, spec["median"], x)
                out[:, start] = self._scale(spec, x)
                if spec["missing_indicator"]:
                    out[:, start + 1] = missing
            elif spec["role"] == CATEGORICAL:
                codes = category_codes(values, spec["categories"])
                unseen = codes < 0
                if unseen.any():
                    batch.unseen[spec["name"]] = int(unseen.sum())
                codes = np.where(unseen, len(spec["categories"]), codes)
                out[np.arange(len(frame)), start + codes] = 1.0
            else:
                flags, missing = parse_boolean(spec["name"], values, issues)
                self._check_missing(spec["name"], missing, values, issues)
                if missing.any():
                    batch.imputed[spec["name"]] = int(missing.sum())
                out[:, start] = flags
        report.merge(batch)
        return out

    def _encode_block(self, frame: pd.DataFrame, out: np.ndarray) -> dict[str, int]:
        dtypes = dict(zip(map(str, frame.columns), frame.dtypes, strict=True))
        specs = [
            spec
            for spec in self.columns_
            if spec["role"] == NUMERIC and is_plain_numeric(dtypes.get(spec["name"]))
        ]
        return encode_block(
            frame,
            specs,
            [self._slices[spec["name"]][0] for spec in specs],
            out,
            clip=self.clip,
            impute_missing=self.impute_missing,
            scale_one=self._scale,
        )

    def _check_missing(
        self, name: str, missing: np.ndarray, values: pd.Series, issues: RowIssues
    ) -> None:
        if not self.impute_missing:
            issues.add(name, missing, "a value (this model does not impute)", values)

    def _scale(self, spec: dict[str, Any], x: np.ndarray) -> np.ndarray:
        if "quantiles" in spec:
            q = np.asarray(spec["quantiles"])
            u = _interp_quantile(x, q)
            z = ndtri(np.clip(u, 1e-4, 1 - 1e-4))
            # Beyond the training range, keep growing (linearly in range units)
            # so that extreme values stay distinguishable after the transform.
            span = max(q[-1] - q[0], 1e-12)
            z = (
                z
                + np.clip(x - q[-1], 0, None) / span
                + np.clip(x - q[0], None, 0) / span
            )
        else:
            z = np.log1p(np.clip(x, 0, None)) if spec["log"] else x
            z = (z - spec["center"]) / spec["scale"]
        return np.asarray(np.clip(z, -self.clip, self.clip))

    def _unscale(self, spec: dict[str, Any], z: np.ndarray) -> np.ndarray:
        z = np.clip(z, -self.clip, self.clip)
        if "quantiles" in spec:
            q = np.asarray(spec["quantiles"])
            u = ndtr(z)
            return np.asarray(np.interp(u, np.linspace(0.0, 1.0, len(q)), q))
        x = z * spec["scale"] + spec["center"]
        if spec["log"]:
            x = np.expm1(x)
        return np.asarray(x, dtype=np.float64)

    # ------------------------------------------------------------- decoding
    def expected_values(
        self, encoded: np.ndarray, columns: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Map encoded rows (e.g. reconstructions) back to readable values.

        Numeric columns are unscaled (``log1p`` undone), categorical columns take
        the category with the highest encoded value, boolean columns threshold
        at 0.5. ``columns`` (default: all) limits the decoding to those model
        columns, in the model's order.
        """
        check_is_fitted(self, "columns_")
        wanted = None if columns is None else set(columns)
        data: dict[str, Any] = {}
        for spec in self.columns_:
            if wanted is not None and spec["name"] not in wanted:
                continue
            start, stop = self._slices[spec["name"]]
            if spec["role"] == NUMERIC:
                data[spec["name"]] = self._unscale(
                    spec, encoded[:, start].astype(np.float64)
                )
            elif spec["role"] == CATEGORICAL:
                labels = np.asarray([*spec["categories"], OTHER], dtype=object)
                data[spec["name"]] = labels[np.argmax(encoded[:, start:stop], axis=1)]
            else:
                data[spec["name"]] = encoded[:, start] >= 0.5
        return pd.DataFrame(data)

    # ----------------------------------------------------------- round trip
    def to_dict(self) -> dict[str, Any]:
        """Return parameters and learned state as plain JSON-ready data."""
        check_is_fitted(self, "columns_")
        return {
            "params": {
                k: (list(v) if isinstance(v, (tuple, list)) else v)
                for k, v in self.get_params().items()
            },
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "columns": self.columns_,
            "excluded": self.excluded_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from ``to_dict`` output."""
        try:
            pre = cls(**data["params"])
            pre.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
            pre.n_features_in_ = len(pre.feature_names_in_)
            pre.columns_ = list(data["columns"])
            pre.excluded_ = dict(data["excluded"])
            pre._build_layout()
        except (KeyError, TypeError) as exc:
            msg = f"preprocessor state: expected the fields of to_dict(), {exc!r}"
            raise SchemaError(msg) from exc
        return pre

    def describe_schema(self) -> list[dict[str, Any]]:
        """Return the feature schema (name, role, and vocabulary size)."""
        check_is_fitted(self, "columns_")
        schema = []
        for spec in self.columns_:
            item = {"name": spec["name"], "role": spec["role"]}
            if "inferred" in spec:  # written since 0.5: was the role inferred?
                item["inferred"] = bool(spec["inferred"])
            if spec["role"] == CATEGORICAL:
                item["n_categories"] = len(spec["categories"])
            schema.append(item)
        return schema


# ---------------------------------------------------------------- helpers
def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        msg = f"input: expected a 2-D table, found an array of shape {array.shape}"
        raise SchemaError(msg)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _require_column(frame: pd.DataFrame, name: str, option: str) -> None:
    if name not in frame.columns:
        msg = f"column '{name}' (named by {option}): not found in the training data"
        raise SchemaError(msg)


def _skewness(x: np.ndarray) -> float:
    std = float(np.std(x))
    if std <= 1e-12:
        return 0.0
    return float(np.mean(((x - np.mean(x)) / std) ** 3))


def _interp_quantile(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, len(q))
    # Average the left and right interpolation so that ties in q (many equal
    # values) map to the middle of their quantile range.
    left = np.interp(x, q, grid)
    right = 1.0 - np.interp(-x, -q[::-1], grid)
    return np.asarray((left + right) / 2.0)
