"""Dataset versions (frozen snapshots of a dataset's inputs and labels), their exports, and inputs-add jobs
from archives with their uploads, parts and entries."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('localapi', '0004_apps_and_concepts'),
    ]

    operations = [
        migrations.CreateModel(
            name='DatasetVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version_id', models.CharField(max_length=255)),
                ('description', models.TextField(blank=True)),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('ignore_empty_inputs', models.BooleanField(default=False)),
                ('status_code', models.PositiveIntegerField(default=64005)),
                ('status_details', models.TextField(blank=True)),
                ('metrics', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='localapi.dataset')),
            ],
        ),
        migrations.CreateModel(
            name='DatasetVersionExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('format', models.PositiveIntegerField()),
                ('key', models.CharField(max_length=32, unique=True)),
                ('origin', models.CharField(max_length=300)),
                ('status_code', models.PositiveIntegerField(default=64201)),
                ('status_details', models.TextField(blank=True)),
                ('size', models.PositiveBigIntegerField(default=0)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='localapi.datasetversion')),
            ],
        ),
        migrations.CreateModel(
            name='DatasetVersionInput',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('input_id', models.CharField(max_length=255)),
                ('kind', models.CharField(choices=[('image', 'image'), ('text', 'text')], max_length=10)),
                ('source_url', models.URLField(blank=True, max_length=2000)),
                ('media_key', models.CharField(blank=True, max_length=64)),
                ('width', models.PositiveIntegerField(blank=True, null=True)),
                ('height', models.PositiveIntegerField(blank=True, null=True)),
                ('image_format', models.CharField(blank=True, max_length=20)),
                ('color_mode', models.CharField(blank=True, max_length=20)),
                ('text', models.TextField(blank=True)),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('concepts', models.JSONField(blank=True, default=list)),
                ('input_created_at', models.DateTimeField()),
                ('original', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='localapi.input')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='snapshot', to='localapi.datasetversion')),
            ],
        ),
        migrations.CreateModel(
            name='InputsAddJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('job_id', models.CharField(max_length=255)),
                ('created_by', models.CharField(max_length=255)),
                ('template', models.JSONField(blank=True, default=dict)),
                ('conflict_resolution', models.PositiveIntegerField(default=0)),
                ('status_code', models.PositiveIntegerField(default=64000)),
                ('status_details', models.TextField(blank=True)),
                ('total', models.PositiveIntegerField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('app', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inputs_add_jobs', to='localapi.app')),
            ],
        ),
        migrations.CreateModel(
            name='ArchiveUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('upload_id', models.CharField(max_length=255, unique=True)),
                ('content_name', models.CharField(blank=True, max_length=255)),
                ('content_length', models.PositiveBigIntegerField(default=0)),
                ('content_url', models.URLField(blank=True, max_length=2000)),
                ('status_code', models.PositiveIntegerField(default=68000)),
                ('status_details', models.TextField(blank=True)),
                ('expires_at', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('modified_at', models.DateTimeField(auto_now=True)),
                ('job', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='upload', to='localapi.inputsaddjob')),
            ],
        ),
        migrations.CreateModel(
            name='ArchiveEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('name', models.CharField(max_length=1000)),
                ('size', models.PositiveBigIntegerField(default=0)),
                ('state', models.CharField(choices=[('pending', 'pending'), ('added', 'added'), ('refused', 'refused'), ('skipped', 'skipped')], default='pending', max_length=10)),
                ('details', models.TextField(blank=True)),
                ('applied', models.PositiveIntegerField(default=0)),
                ('input', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='localapi.input')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='localapi.inputsaddjob')),
            ],
        ),
        migrations.CreateModel(
            name='UploadPart',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('part_number', models.PositiveIntegerField()),
                ('range_start', models.PositiveBigIntegerField()),
                ('size', models.PositiveBigIntegerField()),
                ('upload', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='parts', to='localapi.archiveupload')),
            ],
        ),
        migrations.AddIndex(
            model_name='datasetversion',
            index=models.Index(fields=['dataset', '-id'], name='dataset_version_newest'),
        ),
        migrations.AddConstraint(
            model_name='datasetversion',
            constraint=models.UniqueConstraint(fields=('dataset', 'version_id'), name='dataset_version_id_unique_per_dataset'),
        ),
        migrations.AddConstraint(
            model_name='datasetversionexport',
            constraint=models.UniqueConstraint(fields=('version', 'format'), name='one_export_per_version_format'),
        ),
        migrations.AddConstraint(
            model_name='datasetversioninput',
            constraint=models.UniqueConstraint(fields=('version', 'input_id'), name='input_once_per_dataset_version'),
        ),
        migrations.AddIndex(
            model_name='inputsaddjob',
            index=models.Index(fields=['app', '-id'], name='inputs_add_job_newest'),
        ),
        migrations.AddConstraint(
            model_name='inputsaddjob',
            constraint=models.UniqueConstraint(fields=('app', 'job_id'), name='inputs_add_job_id_unique_per_app'),
        ),
        migrations.AddIndex(
            model_name='archiveentry',
            index=models.Index(fields=['job', 'state', 'number'], name='archive_entry_next'),
        ),
        migrations.AddConstraint(
            model_name='archiveentry',
            constraint=models.UniqueConstraint(fields=('job', 'number'), name='archive_entry_number_unique'),
        ),
        migrations.AddConstraint(
            model_name='uploadpart',
            constraint=models.UniqueConstraint(fields=('upload', 'part_number'), name='upload_part_number_unique'),
        ),
    ]
